// SourceWorker, the main thread's side of the sources' worker: a stand-in worker script (the real
// one runs in the system and e2e tests) that answers each subscribe and, the first time, ends
// itself, as a worker out of its heap would: the facade starts it again and resubscribes every
// viewer, and gives up past its restart bound.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SourceWorker } from '../../src-main/web/sources';
import { eventually } from '../helpers/workload';

const dir = mkdtempSync(join(tmpdir(), 'porthole-source-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A worker that says which run it is to each viewer subscribing, and ends after `endAfter` ms (never if 0). */
function standInWorker(name: string, endAfter: number): string {
  const path = join(dir, `${name}.cjs`);
  writeFileSync(
    path,
    `const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const count = ${JSON.stringify(join(dir, `${name}.runs`))};
const run = (fs.existsSync(count) ? Number(fs.readFileSync(count, 'utf8')) : 0) + 1;
fs.writeFileSync(count, String(run));
parentPort.on('message', (m) => {
  if (m.type === 'subscribe') parentPort.postMessage({ type: 'send', viewers: [m.viewer], json: JSON.stringify({ run }) });
  if (m.type === 'stop') parentPort.close();
});
if (${endAfter} > 0) setTimeout(() => process.exit(1), ${endAfter});
`,
  );
  return path;
}

describe('SourceWorker', () => {
  it('starts an ended worker again and resubscribes every viewer, within its bound', async () => {
    const log: string[] = [];
    const hub = new SourceWorker([], (line) => log.push(line), standInWorker('ending', 200));
    const received: number[] = [];
    hub.subscribe('viewer', (json) => received.push((JSON.parse(json) as { run: number }).run));
    // Run 1 answers, ends; runs 2… answer the resubscription, and end too, until the bound.
    await eventually(() => (log.some((l) => /not started again/.test(l)) ? true : undefined), 10_000);
    expect(received).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log.filter((l) => l === "the sources' worker ended; started again")).toHaveLength(5);
    hub.close();
  });

  it('refuses two sources of one name before any worker starts', () => {
    const spec = { name: 'a', streamUrl: 'ws://127.0.0.1:1/stream', token: 'x'.repeat(16) };
    expect(() => new SourceWorker([spec, spec], () => {}, standInWorker('never', 0))).toThrow(
      /Two sources are called "a"/,
    );
  });
});
