// Unix sockets through netlink (UNIX_DIAG, issue 12): every kind a process can hold reads the same
// through netlink as through /proc/net/unix, field by field, and as `ss -xanp` reads it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import type { Socket } from '../../src-main/shared/contract';
import { Workload, HELPERS } from '../helpers/workload';

const workload = new Workload();
const dir = mkdtempSync(join(tmpdir(), 'porthole-unix-'));
let kinds: Record<string, number | number[]> & { pid: number };
let inodes: Set<number>;

beforeAll(async () => {
  kinds = (await workload.run('python3', [join(HELPERS, 'unix-kinds.py'), dir])) as unknown as typeof kinds;
  inodes = new Set(Object.entries(kinds).flatMap(([name, v]) => (name === 'pid' ? [] : [v].flat())));
});
afterAll(async () => {
  await workload.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ours = (sockets: Socket[]) =>
  new Map(sockets.filter((s) => s.protocol === 'unix' && inodes.has(s.inode)).map((s) => [s.inode, s]));

describe('Unix sockets through netlink', () => {
  it('reads every kind the same through netlink as through /proc, field by field', () => {
    const netlink = new LinuxCollector().collectSync();
    const proc = new LinuxCollector({ engine: 'proc' }).collectSync();
    expect(netlink.stats.engine).toBe('netlink');
    const a = ours(netlink.sockets);
    const b = ours(proc.sockets);
    expect(a.size).toBe(inodes.size);
    // The same but for the peer, which only netlink knows.
    const withoutPeer = (s: Socket) => JSON.stringify({ ...s, peerInode: undefined });
    expect([...a.values()].map(withoutPeer).sort()).toEqual([...b.values()].map(withoutPeer).sort());
    const at = (name: string) => a.get(kinds[name] as number)!;
    expect(at('streamListener')).toMatchObject({
      state: 'LISTEN',
      localAddress: join(dir, 'stream.sock'),
      pid: kinds.pid,
    });
    expect(at('streamClient')).toMatchObject({ state: 'ESTABLISHED', localAddress: '' });
    expect(at('abstractListener').localAddress).toBe(`@porthole-kinds@${kinds.pid}`);
    // One name, newline and all: never text shaped like another row.
    expect(at('newlinePath').localAddress).toBe(join(dir, 'two\nlines.sock'));
    // UTF-8 names read as UTF-8 by both engines (netlink's read them as Latin-1: "cafÃ©-æ¥æ¬").
    expect(at('utf8Path').localAddress).toBe(join(dir, 'café-日本.sock'));
    expect(at('dgramBound')).toMatchObject({ state: 'UNCONN', localAddress: join(dir, 'dgram.sock') });
    expect(at('dgramUnbound')).toMatchObject({ state: 'UNCONN', localAddress: '' });
    for (const inode of kinds.dgramPair as number[]) expect(a.get(inode)?.state).toBe('ESTABLISHED');
    // Each connected end names the other: the column set of a Unix socket (path, type, peer).
    expect(at('streamClient')).toMatchObject({ unixType: 'stream', peerInode: kinds.streamAccepted });
    expect(at('streamAccepted').peerInode).toBe(kinds.streamClient);
    const [p1, p2] = kinds.streamPair as number[];
    expect([a.get(p1)?.peerInode, a.get(p2)?.peerInode]).toEqual([p2, p1]);
    expect(at('seqpacketListener').unixType).toBe('seqpacket');
    expect(at('dgramBound')).toMatchObject({ unixType: 'dgram' });
    expect(at('dgramBound').peerInode).toBeUndefined();
    expect(b.get(kinds.streamClient as number)?.peerInode).toBeUndefined(); // /proc does not say
  });

  it('agrees with ss -xanp on every kind: state, name and owner', () => {
    const porthole = ours(new LinuxCollector().collectSync().sockets);
    const out = execFileSync('ss', ['-xanpH'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const states: Record<string, string> = { ESTAB: 'ESTABLISHED', LISTEN: 'LISTEN', UNCONN: 'UNCONN' };
    let compared = 0;
    for (const line of out.split('\n')) {
      // netid state recv-q send-q local inode peer peer-inode [users]; a name with a space or a
      // newline in it does not split into these fields (the newline path is checked above).
      const f = line.trim().split(/\s+/);
      const inode = Number(f[5]);
      if (f.length < 8 || !inodes.has(inode)) continue;
      const socket = porthole.get(inode)!;
      expect(states[f[1]] ?? f[1]).toBe(socket.state);
      expect(f[4] === '*' ? '' : f[4]).toBe(socket.localAddress);
      expect(f.slice(8).join(' ')).toContain(`pid=${kinds.pid},`);
      expect(socket.pids).toEqual([kinds.pid]);
      compared++;
    }
    // Every kind but the newline path (two lines in ss's output).
    expect(compared).toBe(inodes.size - 1);
  });
});
