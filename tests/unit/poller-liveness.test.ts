// The poll loop's host watches it: silent, it is said to have stalled; silent for longer, it is
// ended and started again, and every subscriber goes on from the new one. The loop here is a
// channel that answers as told (the real worker and helper are faulted in tests/system/faults.test.ts,
// where waiting a minute for "stuck" is not practical).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChannelEvents, ChannelFactory } from '../../src-main/poll/channel';
import { Poller } from '../../src-main/poll/poller';
import type { LoopStatus } from '../../src-main/shared/contract';

interface FakeLoop {
  events: ChannelEvents;
  closed: boolean;
}

const pollers: Poller[] = [];
// The host's clock and timers, faked: the watch is judged by time passing, not by this machine's load.
beforeEach(() => void vi.useFakeTimers());
afterEach(async () => {
  for (const poller of pollers.splice(0)) await poller.stop();
  vi.useRealTimers();
});

function fakeLoops(): { factory: ChannelFactory; loops: FakeLoop[] } {
  const loops: FakeLoop[] = [];
  const factory: ChannelFactory = (events) => {
    const loop: FakeLoop = { events, closed: false };
    loops.push(loop);
    return {
      kind: 'worker',
      send: () => undefined,
      close: async () => {
        loop.closed = true;
      },
    };
  };
  return { factory, loops };
}

const sleep = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe('Poller liveness', () => {
  it('says a silent loop stalled, then ends it and starts another once it is stuck', async () => {
    const { factory, loops } = fakeLoops();
    const poller = new Poller({
      intervalMs: 1000,
      channel: { factory, restart: true },
      watch: { stalledMs: 1500, stuckMs: 3500 },
    });
    pollers.push(poller);
    const seen: LoopStatus[] = [];
    poller.onStatus((status) => seen.push(status));
    const received: string[] = [];
    const { id } = poller.subscribe((json) => received.push(json));
    loops[0].events.message({ type: 'alive' });
    expect(poller.loopStatus.state).toBe('running');
    await sleep(2600);
    expect(poller.loopStatus).toMatchObject({ state: 'stalled', restarts: 0 });
    expect(poller.loopStatus.message).toMatch(/poll worker has not answered since/);
    await sleep(2000);
    expect(loops).toHaveLength(2);
    expect(loops[0].closed).toBe(true);
    expect(poller.loopStatus).toMatchObject({ state: 'restarting', restarts: 1 });
    expect(poller.loopStatus.message).toMatch(/did not answer for \d+ s; it was ended/);
    // The new loop speaks: running again, and its stream reaches the subscriber; the old one's never does.
    loops[0].events.message({ type: 'stream', ids: [id], json: '"old"' });
    loops[1].events.message({ type: 'stream', ids: [id], json: '"new"' });
    expect(poller.loopStatus.state).toBe('running');
    expect(received).toEqual(['"new"']);
    expect(seen.map((s) => s.state)).toEqual(['stalled', 'restarting', 'running']);
  });

  it('does not call a loop stalled before it has said anything (a consent dialog may be open)', async () => {
    const { factory } = fakeLoops();
    const poller = new Poller({
      intervalMs: 1000,
      channel: { factory, restart: true },
      watch: { stalledMs: 200, stuckMs: 400 },
    });
    pollers.push(poller);
    await sleep(1500);
    expect(poller.loopStatus).toMatchObject({ state: 'running', restarts: 0 });
  });

  it('gives up on a loop that keeps dying, and says so', () => {
    const { factory, loops } = fakeLoops();
    const poller = new Poller({ intervalMs: 1000, channel: { factory, restart: true } });
    pollers.push(poller);
    for (let i = 0; i < 6; i++) loops.at(-1)!.events.exit();
    expect(poller.loopStatus.state).toBe('failed');
    expect(poller.loopStatus.message).toMatch(/ended 6 times within a minute; it is not started again/);
    expect(poller.loopStatus.restarts).toBe(5);
  });
});
