// The filter reads `port:`, `pid:`, `state:` and `proc:` terms beside plain words, matches only
// what the rows show (not the hidden command line), refuses a term that makes no sense, and marks
// its words where they match.
import { describe, expect, it } from 'vitest';
import { markMatches, matcher, parseFilterText, sortSockets, type SocketFilter } from '../../src-renderer/src/filter';
import { tcp } from '../helpers/sockets';
import type { ProcessInfo, Socket } from '../../src-main/shared/contract';

const filter = (text: string): SocketFilter => ({ text, protocol: 'all', state: 'all', role: 'all', pid: null });
const owner: ProcessInfo = {
  pid: 4711,
  ppid: 1,
  name: 'node',
  command: '/usr/bin/node /home/ana/code/shop-api/server.js --secret-flag',
  user: 'ana',
  uid: 1000,
  startedAt: null,
  cwd: '/home/ana/code/shop-api',
};
const server = tcp('127.0.0.1:3000', '127.0.0.1:51000', { pid: 4711, pids: [4711], processName: 'node' });
const timeWait = tcp('127.0.0.1:3000', '127.0.0.1:51001', {
  pid: null,
  pids: [],
  processName: null,
  state: 'TIME_WAIT',
});
const client = tcp('127.0.0.1:51000', '127.0.0.1:3000', { pid: 99, pids: [99], processName: 'curl' });

describe('filter terms', () => {
  it('reads terms and words, and says what is wrong with a term', () => {
    expect(parseFilterText(' port:3000 State:time_wait proc:node pid:42 shop ')).toEqual({
      words: ['shop'],
      ports: [3000],
      pids: [42],
      states: ['TIME_WAIT'],
      procs: ['node'],
      invalid: null,
    });
    expect(parseFilterText('port:abc').invalid).toBe('port: takes a number up to 65535');
    expect(parseFilterText('port:70000').invalid).toBe('port: takes a number up to 65535');
    expect(parseFilterText('state:nope').invalid).toMatch(/^state: takes a state \(established, /);
  });

  it('matches each term on its field', () => {
    const test = (text: string) =>
      [server, timeWait, client].filter((s) => matcher(filter(text))(s, s === server ? owner : undefined)).length;
    expect(test('port:3000')).toBe(3); // local or remote port
    expect(test('port:51001')).toBe(1);
    expect(test('pid:4711')).toBe(1);
    expect(test('state:time_wait')).toBe(1);
    expect(test('proc:node')).toBe(1);
    expect(test('proc:shop-api')).toBe(1); // the project folder is shown, so it is matched
    expect(test('port:3000 state:established')).toBe(2);
    expect(test('port:x')).toBe(0);
  });

  it('matches what the row shows, not the hidden command line', () => {
    const match = matcher(filter('secret-flag'));
    expect(match(server, owner)).toBe(false);
    expect(matcher(filter('server.js'))(server, owner)).toBe(true); // the short command is shown
  });

  it('marks every match of every word', () => {
    expect(markMatches('127.0.0.1:3000', ['0.0', '300'])).toEqual([
      { text: '127.', marked: false },
      { text: '0.0', marked: true },
      { text: '.1:', marked: false },
      { text: '300', marked: true },
      { text: '0', marked: false },
    ]);
    expect(markMatches('Node', ['no'])).toEqual([
      { text: 'No', marked: true },
      { text: 'de', marked: false },
    ]);
    expect(markMatches('x', [])).toEqual([{ text: 'x', marked: false }]);
  });
});

describe('sorting by local port', () => {
  it('orders as a stable comparison sort does, both ways, Unix sockets after every port', () => {
    let seed = 11;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const rows: Socket[] = Array.from({ length: 2_000 }, (_, i) => {
      const port = [0, 1, 80, 3000, 65535][random(5)] + (random(3) === 0 ? random(50) : 0);
      const socket = tcp(`127.0.0.1:${Math.min(port, 65535)}`, `10.0.0.1:${40000 + i}`, { inode: i });
      if (random(9) === 0) return { ...socket, protocol: 'unix', localPort: null, localAddress: `/run/${i}.sock` };
      if (random(13) === 0) return { ...socket, localPort: null };
      return socket;
    });
    const value = (s: Socket) => (s.protocol === 'unix' ? 65_536 : (s.localPort ?? 0));
    for (const descending of [false, true]) {
      // Array.prototype.sort is stable: ties keep the table's order.
      const expected = [...rows].sort((a, b) => (value(a) - value(b)) * (descending ? -1 : 1));
      const before = [...rows];
      expect(sortSockets(rows, 'local', descending)).toEqual(expected);
      expect(rows).toEqual(before); // the table itself is left in its order
    }
    expect(sortSockets([], 'local', false)).toEqual([]);
  });
});
