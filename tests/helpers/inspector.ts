// A running Node process (a Porthole) seen from outside through its own inspector: SIGUSR1 opens it
// (on loopback, at the port `--inspect-port=0` let the kernel choose), and the NodeWorker domain
// reaches every thread.
// - Faults in its worker threads, as `kill -9` and SIGSTOP are for a process (a thread cannot be
//   signalled on its own): `end` makes one exit at once (no clean-up of its own runs, as after a
//   kill), `stop` blocks one for a while (it neither reads nor answers) and then lets it go on.
// - Its heaps: `heapAfterGc` collects garbage in every thread, then sums what each heap holds — a
//   leak's measure without the noise of garbage not yet collected (the soak's).
import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';

interface AttachedWorker {
  sessionId: string;
  url: string;
}

export class Inspector {
  private nextId = 1;
  private readonly answers = new Map<number, (result: unknown) => void>();
  private readonly workers: AttachedWorker[] = [];
  /** Answers from a worker's session, by the id of the request sent into it. */
  private readonly workerAnswers = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as {
        id?: number;
        method?: string;
        params?: { sessionId: string; workerInfo: { url: string }; message: string };
      };
      if (message.id !== undefined) this.answers.get(message.id)?.(message);
      else if (message.method === 'NodeWorker.receivedMessageFromWorker') {
        const inner = JSON.parse(message.params!.message) as { id?: number; result?: unknown };
        if (inner.id !== undefined) this.workerAnswers.get(inner.id)?.(inner.result);
      } else if (message.method === 'NodeWorker.attachedToWorker')
        this.workers.push({ sessionId: message.params!.sessionId, url: message.params!.workerInfo.url });
      else if (message.method === 'NodeWorker.detachedFromWorker') {
        const gone = this.workers.findIndex((w) => w.sessionId === message.params!.sessionId);
        if (gone >= 0) this.workers.splice(gone, 1);
      }
    });
  }

  /**
   * Opens the inspector of `child` (started with `--inspect-port=0`), whose stderr lines are
   * gathered in `stderr`, and lists its threads.
   */
  static async open(child: ChildProcess, stderr: string[]): Promise<Inspector> {
    child.kill('SIGUSR1');
    let url: string | undefined;
    for (let i = 0; i < 100 && !url; i++) {
      url = stderr.map((line) => /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(line)?.[1]).find(Boolean);
      if (!url) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!url) throw new Error(`the inspector did not open: ${stderr.slice(-5).join('\n')}`);
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const inspector = new Inspector(ws);
    await inspector.call('NodeWorker.enable', { waitForDebuggerOnStart: false });
    return inspector;
  }

  /** A request in one worker's session, answered. */
  private callInWorker(sessionId: string, method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.workerAnswers.set(id, resolve);
      void this.call('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  }

  /** Bytes the heaps of the process's threads hold after a garbage collection in each. */
  async heapAfterGc(): Promise<number> {
    const main = (await this.call('HeapProfiler.collectGarbage', {}), await this.call('Runtime.getHeapUsage', {})) as {
      result: { usedSize: number };
    };
    let used = main.result.usedSize;
    for (const worker of [...this.workers]) {
      await this.callInWorker(worker.sessionId, 'HeapProfiler.collectGarbage');
      used += ((await this.callInWorker(worker.sessionId, 'Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
    }
    return used;
  }

  private call(method: string, params: object): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The thread running the script whose file name ends with `script`, waiting for it to start. */
  private async thread(script: string): Promise<AttachedWorker> {
    for (let i = 0; i < 200; i++) {
      const found = this.workers.find((w) => w.url.endsWith(`/${script}`));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no thread runs ${script}: ${this.workers.map((w) => w.url).join(', ')}`);
  }

  /** How many threads run `script` now. */
  count(script: string): number {
    return this.workers.filter((w) => w.url.endsWith(`/${script}`)).length;
  }

  private async evaluate(script: string, expression: string): Promise<void> {
    const { sessionId } = await this.thread(script);
    const message = JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } });
    await this.call('NodeWorker.sendMessageToWorker', { sessionId, message });
  }

  /** Ends the thread at once, as `kill -9` ends a process. */
  end(script: string): Promise<void> {
    return this.evaluate(script, 'process.exit(137)');
  }

  /** Blocks the thread for `ms` (it runs nothing meanwhile), as SIGSTOP then SIGCONT would. */
  stop(script: string, ms: number): Promise<void> {
    return this.evaluate(script, `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${ms}), undefined`);
  }

  close(): void {
    this.ws.close();
  }
}
