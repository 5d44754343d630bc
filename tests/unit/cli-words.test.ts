// What `porthole watch` says about event mode and about what did not reach it.
import { describe, expect, it } from 'vitest';
import type { Delta } from '../../src-main/shared/contract';
import { describeDelta, describeLosses, eventModeWords } from '../../src-main/cli/watch';
import { tcp } from '../helpers/sockets';

const delta = (over: Partial<Delta>): Delta => ({
  seq: 2,
  since: 1,
  at: '2026-11-29T10:00:01.250Z',
  added: [],
  removed: [],
  changed: [],
  processes: [],
  stats: { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 },
  ...over,
});

describe('watch words', () => {
  it('says which mode runs, and how many events were lost so far', () => {
    expect(eventModeWords({ active: true, reason: null, lost: 0 }, 1000)).toBe(
      'polling every 1 s and recording every TCP state change from kernel events.',
    );
    expect(eventModeWords({ active: true, reason: null, lost: 1234 }, 1000)).toBe(
      'polling every 1 s and recording every TCP state change from kernel events (1,234 lost so far).',
    );
    expect(eventModeWords({ active: false, reason: 'turned off' }, 250)).toBe(
      'polling every 0.25 s; connections shorter than that are not seen (kernel events: turned off).',
    );
  });

  it('prints an owner found for a table sent before its owners as no news, and any other owner change', () => {
    const listener = tcp('127.0.0.1:3000', null, { pid: 42, processName: 'node' });
    const moved = tcp('127.0.0.1:4000', null, { pid: 43, processName: 'node' });
    const filled = delta({
      changed: [
        { key: 'a', from: { pid: null, processName: null }, to: listener },
        { key: 'b', from: { pid: 41, processName: 'node' }, to: moved },
      ],
    });
    expect(describeDelta(filled, [], true)).toEqual(['10:00:01.250 ~ tcp 127.0.0.1:4000 node[43] owner 41 → 43']);
    expect(describeDelta(filled, [], false)).toEqual([
      '10:00:01.250 ~ tcp 127.0.0.1:3000 node[42] owner - → 42',
      '10:00:01.250 ~ tcp 127.0.0.1:4000 node[43] owner 41 → 43',
    ]);
  });

  it('prints a line when more events were lost, and when finished connections were not sent', () => {
    const mode = { active: true, reason: null, lost: 1500 };
    expect(describeLosses(delta({ eventMode: mode }), 1000)).toEqual([
      '10:00:01.250 ! the kernel lost 500 TCP events (its buffer was full; 1,500 in all): some connections are missing or incomplete',
    ]);
    expect(describeLosses(delta({ eventMode: mode }), 1500)).toEqual([]);
    expect(describeLosses(delta({ chainsDropped: 2000 }), 0)).toEqual([
      '10:00:01.250 ! 2,000 finished connections were not sent to this watcher (it fell behind)',
    ]);
  });
});
