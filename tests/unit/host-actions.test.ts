// The snapshot action's economy: a viewer asking for snapshots many times a second costs the poll
// worker one snapshot per SNAPSHOT_FRESH_MS (the worker serialises each table version once:
// tests/system/serve.test.ts), and every request in that time gets the same text.
import { describe, expect, it } from 'vitest';
import { createHostActions, PreSerialised, SNAPSHOT_FRESH_MS } from '../../src-main/viewer/actions';
import type { Poller } from '../../src-main/poll/poller';

/** A poller whose snapshots say which read they are; counts the reads asked of it. */
function fakePoller() {
  const state = { reads: 0 };
  const poller = { snapshot: async () => JSON.stringify({ read: ++state.reads }) } as unknown as Poller;
  return { poller, state };
}

describe('the snapshot action', () => {
  it('asks the worker once for requests close together, and again once that snapshot is old', async () => {
    const { poller, state } = fakePoller();
    const actions = createHostActions(poller);
    const ask = (id: number) => actions.run({ type: 'snapshot', id }) as Promise<PreSerialised>;
    const answers = await Promise.all([1, 2, 3, 4, 5].map(ask));
    expect(answers.every((a) => a instanceof PreSerialised && a.json === '{"read":1}')).toBe(true);
    expect((await ask(6)).json).toBe('{"read":1}');
    expect(state.reads).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, SNAPSHOT_FRESH_MS + 50));
    expect((await ask(7)).json).toBe('{"read":2}');
    expect(state.reads).toBe(2);
  });
});
