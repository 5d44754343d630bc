// Plays a recording of the stream into a table of its own: seek to any moment (a slider), play at
// 1× or faster. Plain TypeScript, tested without a browser.
import type { ConnectionChain, StreamMessage } from '../../../src-main/shared/contract';
import { LiveTable } from './live-table';
import { sampleTable, type StateSample } from './samples';

const atOf = (m: StreamMessage) => Date.parse(m.type === 'resync' ? m.resync.at : m.delta.at);

export class Replay {
  table = new LiveTable();
  /** Wall-clock ms of each message; a resync recorded before the first poll has none: it is at the start. */
  private readonly times: number[];
  private next = 0;
  readonly start: number;
  readonly end: number;
  /** The moment shown, in recording time (ms since the epoch). */
  position: number;

  constructor(private readonly messages: readonly StreamMessage[]) {
    const known = messages.map(atOf).filter(Number.isFinite);
    this.start = known.length > 0 ? Math.min(...known) : 0;
    this.end = known.length > 0 ? Math.max(...known) : 0;
    this.times = messages.map((m) => (Number.isFinite(atOf(m)) ? atOf(m) : this.start));
    this.position = this.start;
    this.seek(this.start);
  }

  get length(): number {
    return this.messages.length;
  }

  /** Messages applied so far. */
  get applied(): number {
    return this.next;
  }

  /** Shows the table as it was at `time`: forward by applying, backward by replaying from the start. */
  seek(time: number): void {
    const target = Math.min(this.end, Math.max(this.start, time));
    if (target < this.position || this.next === 0) {
      this.table = new LiveTable();
      this.next = 0;
    }
    // Highlights are timed in recording time, so a change is highlighted as it was live.
    while (this.next < this.messages.length && (this.next === 0 || this.times[this.next] <= target)) {
      this.table.receive(this.messages[this.next], this.times[this.next]);
      this.next++;
    }
    this.table.expire(target);
    this.position = target;
  }

  private sampled: StateSample[] | null = null;

  /**
   * The recording's samples for the charts (made once, a table of its own played through: one
   * sample a message), up to the moment shown.
   */
  samples(): StateSample[] {
    if (!this.sampled) {
      const table = new LiveTable();
      this.sampled = this.messages.map((message, i) => {
        const delta = table.receive(message, this.times[i]);
        const opened =
          delta === 'gap' || i === 0
            ? 0
            : delta.added.filter((s) => s.protocol === 'tcp' && s.remoteAddress !== null).length +
              (delta.chains?.length ?? 0);
        return sampleTable(new Date(this.times[i]).toISOString(), table.sockets.values(), opened);
      });
    }
    return this.sampled.filter((s) => Date.parse(s.at) <= this.position);
  }

  /** The connections that ended (event mode) in the messages applied so far, oldest first. */
  chains(): ConnectionChain[] {
    return this.messages.slice(0, this.next).flatMap((m) => (m.type === 'delta' ? (m.delta.chains ?? []) : []));
  }

  /** Moves on by `elapsedMs` of wall time at `speed`× ; true while there is more to play. */
  advance(elapsedMs: number, speed: number): boolean {
    this.seek(this.position + elapsedMs * speed);
    return this.position < this.end;
  }
}
