// Names of remote addresses: the hosts file (real files), the system resolver for an address
// /etc/hosts names (getnameinfo answers from the file, no query leaves the machine), and the
// bounds: one lookup per address in flight, at most two at once, a cache with a size and lifetimes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MAX_CACHED_NAMES,
  MAX_LOOKUPS_IN_FLIGHT,
  NAME_TTL_MS,
  NO_NAME_TTL_MS,
  parseHostsFile,
  ReverseNames,
  reverseDnsModeFrom,
} from '../../src-main/collect/reverse-dns';

describe('reverse names', () => {
  it('reads the first name of each address in a hosts file, comments and junk skipped', () => {
    const names = parseHostsFile(
      '# comment\n127.0.0.1 localhost loopback\n127.0.0.1 second\n::1 ip6-localhost\nnot-an-ip foo\n10.0.0.7\tdb.test # the database\n',
    );
    expect([...names]).toEqual([
      ['127.0.0.1', 'localhost'],
      ['::1', 'ip6-localhost'],
      ['10.0.0.7', 'db.test'],
    ]);
  });

  it('names addresses from a hosts file, follows its changes, and answers null for the unnamed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-hosts-'));
    try {
      const file = join(dir, 'hosts');
      writeFileSync(file, '127.0.0.77 db.test\n');
      let now = 1_000;
      const names = new ReverseNames({ mode: 'hosts', hostsFile: file, now: () => now });
      expect(await names.resolve(['127.0.0.77', '127.0.0.78', '0.0.0.0', '::'])).toEqual({
        '127.0.0.77': 'db.test',
        '127.0.0.78': null,
        '0.0.0.0': null,
        '::': null,
      });
      writeFileSync(file, '127.0.0.77 db.test\n127.0.0.78 cache.test extra-name\n');
      // "No name" is believed for NO_NAME_TTL_MS, then asked again (and the file read again).
      expect(await names.resolve(['127.0.0.78'])).toEqual({ '127.0.0.78': null });
      now += NO_NAME_TTL_MS + 1;
      expect(await names.resolve(['127.0.0.78'])).toEqual({ '127.0.0.78': 'cache.test' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks the system resolver, which names 127.0.0.1 from /etc/hosts', async () => {
    const names = new ReverseNames({ mode: 'on' });
    const answer = await names.resolve(['127.0.0.1']);
    expect(answer['127.0.0.1']).toBe('localhost');
  });

  it('asks nothing when off', async () => {
    let asked = 0;
    const names = new ReverseNames({ mode: 'off', lookup: async () => (asked++, 'x') });
    expect(await names.resolve(['127.0.0.1'])).toEqual({});
    expect(asked).toBe(0);
  });

  it('refuses answers that are not host names', async () => {
    const answers: Record<string, string> = {
      '10.0.0.1': 'evil\u202Ename',
      '10.0.0.2': '10.0.0.2',
      '10.0.0.3': 'a'.repeat(300),
      '10.0.0.4': 'Fine.Example',
    };
    const names = new ReverseNames({ mode: 'on', lookup: async (a) => answers[a] });
    expect(await names.resolve(Object.keys(answers))).toEqual({
      '10.0.0.1': null,
      '10.0.0.2': null,
      '10.0.0.3': null,
      '10.0.0.4': 'fine.example',
    });
  });

  it(`runs at most ${MAX_LOOKUPS_IN_FLIGHT} lookups at once and one per address`, async () => {
    let running = 0;
    let most = 0;
    const calls: string[] = [];
    const names = new ReverseNames({
      mode: 'on',
      lookup: async (address) => {
        calls.push(address);
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return `h${address.split('.')[3]}.test`;
      },
    });
    const addresses = Array.from({ length: 10 }, (_, i) => `10.0.0.${i + 1}`);
    const [a, b] = await Promise.all([names.resolve(addresses), names.resolve(addresses)]);
    expect(a['10.0.0.10']).toBe('h10.test');
    expect(b).toEqual(a);
    expect(most).toBe(MAX_LOOKUPS_IN_FLIGHT);
    expect(calls.length).toBe(10);
    // Cached: asked again, nothing is looked up.
    await names.resolve(addresses);
    expect(calls.length).toBe(10);
  });

  it(`keeps at most ${MAX_CACHED_NAMES} names, found names for ${NAME_TTL_MS / 60_000} min`, async () => {
    let now = 0;
    let calls = 0;
    const names = new ReverseNames({ mode: 'on', now: () => now, lookup: async () => (calls++, 'n.test') });
    const addresses = Array.from(
      { length: MAX_CACHED_NAMES + 10 },
      (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`,
    );
    for (let i = 0; i < addresses.length; i += 256) await names.resolve(addresses.slice(i, i + 256));
    expect(names.size).toBe(MAX_CACHED_NAMES);
    calls = 0;
    await names.resolve([addresses.at(-1)!]);
    expect(calls).toBe(0);
    now += NAME_TTL_MS + 1;
    await names.resolve([addresses.at(-1)!]);
    expect(calls).toBe(1);
  });

  it('takes its mode from PORTHOLE_REVERSE_DNS, on by default', () => {
    expect(reverseDnsModeFrom(undefined)).toBe('on');
    expect(reverseDnsModeFrom('hosts')).toBe('hosts');
    expect(reverseDnsModeFrom('off')).toBe('off');
    expect(reverseDnsModeFrom('bogus')).toBe('on');
  });
});
