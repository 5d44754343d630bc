// The sources of `serve --source` in a worker thread (see SourceWorker in sources.ts): their
// connections, the parsing and checking of all they send, their tables and their streams to each
// viewer. The main thread only forwards text.

import { parentPort, workerData } from 'node:worker_threads';
import { outbox } from '../common/outbox';
import { SourceSet, type FromSourcesWorker, type SourceSpec, type ToSourcesWorker } from './sources';

if (!parentPort) throw new Error('sources-worker must run in a worker thread');
const port = parentPort;
const post = (message: FromSourcesWorker) => port.postMessage(message);
const sources = new SourceSet((workerData as { specs: SourceSpec[] }).specs, (line) => post({ type: 'log', line }));
const queue = outbox<string>((viewers, json) => post({ type: 'send', viewers, json }));

port.on('message', (message: ToSourcesWorker) => {
  switch (message.type) {
    case 'subscribe':
      sources.subscribe(message.viewer, (json) => queue(message.viewer, json));
      break;
    case 'ack':
      sources.ack(message.viewer, message.host);
      break;
    case 'resync':
      sources.resync(message.viewer, message.host);
      break;
    case 'pause':
      sources.setPaused(message.viewer, message.paused);
      break;
    case 'unsubscribe':
      sources.unsubscribe(message.viewer);
      break;
    case 'stop':
      sources.close();
      port.close();
      break;
  }
});
