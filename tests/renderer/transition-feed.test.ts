// The Transitions feed on a busy host: it keeps far more changes than it shows, so one connection's
// changes are still there to filter for after thousands of others (the e2e test under load lost
// its connection when the feed kept only the newest 500). tests/renderer holds tests of renderer
// stores run under Node and typechecked with DOM types (tsconfig.e2e.json).
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Delta, ScanStats } from '../../src-main/shared/contract';
import { socketKey } from '../../src-main/track/identity';
import { FEED_SHOWN, useTransitionStore } from '../../src-renderer/src/stores/transitions';
import { tcp } from '../helpers/sockets';

const stats: ScanStats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };
const delta = (seq: number, over: Partial<Delta>): Delta => ({
  seq,
  since: seq - 1,
  at: new Date(seq * 1000).toISOString(),
  added: [],
  removed: [],
  changed: [],
  processes: [],
  stats,
  ...over,
});

beforeEach(() => setActivePinia(createPinia()));

describe('the Transitions feed', () => {
  it('keeps one connection\u2019s change after 3,000 others, and the newest come first', () => {
    const transitions = useTransitionStore();
    const mine = tcp('127.0.0.1:40000', '127.0.0.1:3000', { inode: 7 });
    const closing = { ...mine, state: 'TIME_WAIT' as const, pid: null, inode: 0 };
    transitions.apply(delta(1, { added: [mine] }), [mine]);
    transitions.apply(
      delta(2, { changed: [{ key: socketKey(mine), from: { state: 'ESTABLISHED' }, to: closing }] }),
      [],
    );
    for (let seq = 3; seq < 33; seq++) {
      const others = Array.from({ length: 100 }, (_, i) =>
        tcp(`127.0.0.1:${50000 + i}`, `127.0.0.1:${seq + 1000}`, { inode: seq * 1000 + i }),
      );
      transitions.apply(delta(seq, { added: others }), others);
    }
    expect(transitions.feed.length).toBeGreaterThan(FEED_SHOWN * 6);
    expect(transitions.feed.find((e) => e.key === socketKey(mine) && e.to === 'TIME_WAIT')).toBeDefined();
    expect(transitions.feed[0].at > transitions.feed.at(-1)!.at).toBe(true);
  });
});
