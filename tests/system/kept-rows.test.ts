// Polls keep a quiet namespace's TCP rows (its counters say no segment moved, no socket came or
// went: the kernel's dump is not repeated), and still see every change (issue 12). Each test runs
// `porthole watch --json` in a new namespace that is Porthole's own there, holding only the test's
// sockets, so its counters are still between polls as on a quiet host.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { StreamMessage, TcpTraffic } from '../../src-main/shared/contract';
import { socketKey } from '../../src-main/track/identity';
import { CLI } from '../helpers/cli';
import { TestNamespaces } from '../helpers/netns';
import { HELPERS, interruptThenKill, Workload } from '../helpers/workload';

const LO = '127.0.0.1';
const root = process.getuid?.() === 0;
const workload = new Workload();
const namespaces = new TestNamespaces();
const watchers: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(watchers.splice(0).map(interruptThenKill));
  await workload.stop();
});
afterAll(() => namespaces.cleanup());

/** A socket-child and `porthole watch --json` (250 ms polls) inside a new namespace; the watch's messages. */
async function inQuietNamespace(tag: string, plan: Record<string, unknown>) {
  const name = namespaces.add(tag);
  const inside = (args: string[]) => ['netns', 'exec', name, process.execPath, ...args];
  const child = await workload.run('ip', inside([join(HELPERS, 'socket-child.cjs'), JSON.stringify(plan)]));
  const watch = spawn('ip', inside([CLI, 'watch', '--json', '--interval', '250']), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  watchers.push(watch);
  const lines = createInterface({ input: watch.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string) as StreamMessage;
  return { child, next };
}

describe.skipIf(!root)('kept rows in a quiet namespace', () => {
  it('bring no news while nothing moves, and 50,000 more bytes written after reach the stream exactly', async () => {
    const { child, next } = await inQuietNamespace('tq', { role: 'transfer', host: LO, send: 1000, reply: 10 });
    const key = `tcp|${LO}:${child.localPort}|${LO}:${child.port}`;
    let start: TcpTraffic | undefined;
    for (let i = 0; i < 10 && !start; i++) {
      const message = await next();
      const sockets = message.type === 'resync' ? message.resync.sockets : message.delta.added;
      start = sockets.find((s) => socketKey(s) === key)?.traffic;
    }
    expect(start?.bytesAcked).toBe(1001); // the SYN counts one
    for (let i = 0; i < 4; i++) {
      const message = await next();
      expect(message.type === 'delta' && (message.delta.traffic ?? []).some((u) => u.key === key)).toBe(false);
    }
    process.kill(child.pid, 'SIGHUP');
    let moved: TcpTraffic | undefined;
    for (let i = 0; i < 12 && !moved; i++) {
      const message = await next();
      if (message.type === 'delta') moved = message.delta.traffic?.find((u) => u.key === key)?.traffic;
    }
    expect(moved?.bytesAcked).toBe(1001 + 50_000);
    expect(moved?.sendRate).toBeGreaterThan(0);
  });

  it('see a listener replaced within one poll: no segment, the same socket count, the same fd count', async () => {
    const { child, next } = await inQuietNamespace('tl', { role: 'relisten', host: LO, port: 0, port2: 0 });
    const listening = (port: number) => `tcp|${LO}:${port}|`;
    let seen = false;
    for (let i = 0; i < 10 && !seen; i++) {
      const message = await next();
      const sockets = message.type === 'resync' ? message.resync.sockets : message.delta.added;
      seen = sockets.some((s) => socketKey(s).startsWith(listening(child.port!)));
    }
    expect(seen).toBe(true);
    for (let i = 0; i < 3; i++) await next(); // quiet polls: the rows are kept
    process.kill(child.pid, 'SIGUSR1');
    let added: string | undefined;
    let removed = false;
    for (let i = 0; i < 8 && !(added && removed); i++) {
      const message = await next();
      if (message.type !== 'delta') continue;
      added ??= message.delta.added
        .map(socketKey)
        .find((k) => k.startsWith(`tcp|${LO}:`) && !k.startsWith(listening(child.port!)));
      removed ||= message.delta.removed.some((k) => k.startsWith(listening(child.port!)));
    }
    expect(added).toBeDefined();
    expect(removed).toBe(true);
  });
});
