// The snapshot action's economy: a viewer asking for snapshots many times a second costs the poll
// worker one table read per SNAPSHOT_FRESH_MS, and one serialisation per table version.
import { describe, expect, it } from 'vitest';
import { createHostActions, PreSerialised, SNAPSHOT_FRESH_MS } from '../../src-main/serve/host-actions';
import type { Poller } from '../../src-main/serve/poller';
import { tcp } from '../helpers/sockets';

/** A poller whose table is `seq` with one socket; counts the reads asked of it. */
function fakePoller() {
  const state = { seq: 1, reads: 0 };
  const poller = {
    current: async () => {
      state.reads++;
      return JSON.stringify({
        seq: state.seq,
        at: new Date().toISOString(),
        sockets: [tcp('127.0.0.1:3000', null)],
        processes: [],
        stats: null,
      });
    },
  } as unknown as Poller;
  return { poller, state };
}

describe('the snapshot action', () => {
  it('reads the table once for requests close together, and serialises each version once', async () => {
    const { poller, state } = fakePoller();
    const actions = createHostActions(poller);
    const ask = (id: number) => actions.run({ type: 'snapshot', id }) as Promise<PreSerialised>;
    const answers = await Promise.all([1, 2, 3, 4, 5].map(ask));
    expect(state.reads).toBe(1);
    // One text, shared by every answer (the session splices it into each reply).
    expect(new Set(answers.map((a) => a.json)).size).toBe(1);
    expect(JSON.parse(answers[0].json)).toMatchObject({ format: 'porthole.snapshot', sockets: [{ localPort: 3000 }] });
    const again = await ask(6);
    expect(state.reads).toBe(1);
    expect(again.json).toBe(answers[0].json);
    // Later: read again; the same version is not serialised again, a new one is.
    await new Promise((resolve) => setTimeout(resolve, SNAPSHOT_FRESH_MS + 50));
    expect((await ask(7)).json).toBe(answers[0].json);
    expect(state.reads).toBe(2);
    state.seq = 2;
    await new Promise((resolve) => setTimeout(resolve, SNAPSHOT_FRESH_MS + 50));
    const newer = await ask(8);
    expect(state.reads).toBe(3);
    expect(newer.json).not.toBe(answers[0].json);
  });
});
