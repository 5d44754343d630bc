// Filtering with the search index (each row's search text, runs of one owner) answers what testing
// every row answers, however the index is built (whole, in part, not at all) and however the text
// is typed (a key at a time, each key narrowing the last result, or at once).
import { describe, expect, it } from 'vitest';
import { matcher, sortSockets, type SocketFilter } from '../../src-renderer/src/filter';
import { filterRows, ownerLookup, SearchIndex, type Filtered } from '../../src-renderer/src/search-index';
import type { ProcessInfo, Socket } from '../../src-main/shared/contract';
import { tcp } from '../helpers/sockets';

let seed = 11;
const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;

const process = (pid: number, command: string, cwd: string): ProcessInfo => ({
  pid,
  ppid: 1,
  name: command.split(' ')[0].split('/').pop()!,
  command,
  user: 'ana',
  uid: 1000,
  startedAt: null,
  cwd,
});
const processes = new Map<number, ProcessInfo>([
  [10, process(10, '/usr/bin/node /home/ana/code/shop-api/server.js', '/home/ana/code/shop-api')],
  [11, process(11, '/usr/bin/python3 -m http.server 8000', '/srv/www')],
  [12, process(12, '/usr/sbin/nginx -g daemon off;', '/')],
]);
const ownerOf = ownerLookup({ local: processes, remote: new Map() });

/** A table of 2,000 rows from a few owners, a name on some sockets whose owner's record is missing. */
function table(): Socket[] {
  return Array.from({ length: 2000 }, (_, i) => {
    const pid = [10, 11, 12, 13, null][random(5)];
    return tcp(`127.0.0.1:${3000 + random(4)}`, `10.${random(3)}.${random(4)}.${random(250)}:${40000 + i}`, {
      inode: i + 1,
      pid,
      pids: pid === null ? [] : [pid],
      processName: pid === null ? null : pid === 13 ? 'redis-server' : processes.get(pid)!.name,
      state: pid === null ? 'TIME_WAIT' : 'ESTABLISHED',
    });
  });
}

/** Long runs of one owner, as a server's connections sorted by port are, with leftovers among them. */
function runsTable(): Socket[] {
  return Array.from({ length: 2400 }, (_, i) => {
    const port = 3000 + Math.floor(i / 400);
    const pid = i % 50 === 7 ? null : [10, 11, 12, 13, 10, 12][port - 3000];
    return tcp(`127.0.0.1:${port}`, `10.${random(3)}.${random(4)}.${random(250)}:${40000 + i}`, {
      inode: i + 1,
      pid,
      pids: pid === null ? [] : [pid],
      processName: pid === null ? null : pid === 13 ? 'redis-server' : processes.get(pid)!.name,
      state: pid === null ? 'TIME_WAIT' : 'ESTABLISHED',
    });
  });
}

const filter = (text: string): SocketFilter => ({ text, protocol: 'all', state: 'all', role: 'all', pid: null });
/** Every row tested on its own: what the index must answer. */
const plainly = (rows: readonly Socket[], text: string) => {
  const test = matcher(filter(text));
  return rows.filter((s) => test(s, ownerOf(s)));
};
const placesOf = (rows: readonly Socket[], result: readonly Socket[]) => result.map((s) => rows.indexOf(s));

describe('filtering with the search index', () => {
  it.each([
    ['built whole', 1, table],
    ['built in part', 0.4, table],
    ['not built', 0, table],
    ['built whole, long runs of one owner', 1, runsTable],
    ['built in part, long runs of one owner', 0.55, runsTable],
  ])('answers what testing every row answers, a key at a time, %s', (_, part, make) => {
    const rows = sortSockets(make(), 'local', false);
    const index = new SearchIndex(rows);
    index.buildTo(Math.round(rows.length * part), ownerOf);
    for (const text of [
      'shop-api 10.1',
      'node 3001',
      'redis 10.2.3',
      'python3 :3002',
      'nginx www',
      'zzz',
      'n 300',
      'er',
    ]) {
      let last: Filtered = { result: rows, indexes: null };
      for (let k = 1; k <= text.length; k++) {
        const typed = text.slice(0, k);
        // A space ends a word: the next key starts another, which narrows too.
        const next = filterRows(index, last.result, last.indexes, matcher(filter(typed)), ownerOf);
        expect(next.result).toEqual(plainly(rows, typed));
        expect(next.indexes === null ? next.result.map((_, i) => i) : [...next.indexes]).toEqual(
          placesOf(rows, next.result),
        );
        last = next;
      }
    }
  });

  it('answers the table itself while every row passes, and a word in an owner passes all its rows', () => {
    const rows = sortSockets(table(), 'local', false);
    const index = new SearchIndex(rows);
    index.buildTo(rows.length, ownerOf);
    expect(filterRows(index, rows, null, matcher(filter('127.0.0.1')), ownerOf).result).toBe(rows);
    // Runs of one owner: fewer than the rows (sorted by port, owners come in runs).
    expect(index.runs).toBeGreaterThan(1);
    expect(index.runs).toBeLessThan(rows.length);
    const shop = filterRows(index, rows, null, matcher(filter('shop-api')), ownerOf).result;
    expect(shop.length).toBe(rows.filter((s) => s.pid === 10).length);
  });

  it('passes a filter of more than words (a state, a term) to the row test', () => {
    const rows = sortSockets(table(), 'local', false);
    const index = new SearchIndex(rows);
    index.buildTo(rows.length, ownerOf);
    const withState = { ...filter('node'), state: 'ESTABLISHED' as const };
    expect(filterRows(index, rows, null, matcher(withState), ownerOf).result).toEqual(
      rows.filter((s) => matcher(withState)(s, ownerOf(s))),
    );
    for (const text of ['node port:3001', 'proc:redis', 'state:time_wait 10.0'])
      expect(filterRows(index, rows, null, matcher(filter(text)), ownerOf).result).toEqual(plainly(rows, text));
  });
});
