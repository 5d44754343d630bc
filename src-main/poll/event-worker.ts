// The kernel's TCP events, read in a thread of their own: every 50 ms, whatever the poll worker is
// doing. A poll of a big table takes hundreds of ms; read between polls, a burst of thousands of
// connections a second overflowed the kernel's buffer meanwhile. Here the pages are read, parsed
// and assembled into finished connections, which go to the poll worker to be streamed.
// Runs at the normal priority: the poll worker lowers its own, and a reader starved by a busy
// machine makes the kernel lose events.

import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { openTcpEvents } from '../collect';
import { ChainAssembler, type ConnectionChain } from '../track/connection-chains';
import { EVENT_ALIVE_MS, type EventWorkerOptions, type FromEventWorker } from './protocol';

const port = parentPort;
if (!port) throw new Error('event-worker must run in a worker thread');
try {
  // A thread starts with its creator's niceness: the poll worker's lowered one. Back to normal
  // (root may; event mode needs root anyway).
  setPriority(0, 0);
} catch {
  // not permitted: the reader runs, and a starved one counts what the kernel lost
}
const options = workerData as EventWorkerOptions;
const post = (message: FromEventWorker) => port.postMessage(message);

/**
 * Read this often: a finished connection waits half of it on average before it is published
 * (the kernel wakes a reader of the ring only when it is half full); at 10,000 connections a
 * second, ~2,000 events a read.
 */
const READ_MS = 20;
/** A connection with no change for this long lost its end (events dropped): forget it. */
const OPEN_CHAIN_MAX_AGE_MS = 10 * 60_000;
const PRUNE_MS = 10_000;

const opening = openTcpEvents(options.bufferKbPerCpu, options.tag);
if (!opening.ok) {
  post({ type: 'mode', active: false, reason: opening.reason });
  port.close();
} else {
  const tracer = opening.source;
  const assembler = new ChainAssembler();
  let lost = 0;
  post({ type: 'mode', active: true, reason: null, ...(tracer.instance ? { instance: tracer.instance } : {}) });
  const read = () => {
    try {
      const finished: ConnectionChain[] = [];
      for (const event of tracer.drain()) {
        const chain = assembler.push(event);
        if (chain) finished.push(chain);
      }
      if (finished.length > 0 || tracer.lost !== lost) {
        lost = tracer.lost;
        post({ type: 'chains', chains: finished, lost });
      }
    } catch (error) {
      post({ type: 'error', message: `Reading kernel TCP events failed: ${(error as Error).message}` });
    }
  };
  const reader = setInterval(read, READ_MS);
  const pruner = setInterval(() => assembler.prune(Date.now(), OPEN_CHAIN_MAX_AGE_MS), PRUNE_MS);
  const alive = setInterval(() => post({ type: 'alive' }), EVENT_ALIVE_MS);
  port.on('message', (message: { type: 'stop' }) => {
    if (message.type !== 'stop') return;
    clearInterval(reader);
    clearInterval(pruner);
    clearInterval(alive);
    read(); // what ended just before the stop
    tracer.close();
    port.close();
  });
}
