// The Connections list's runs: a 50,000-row list read by index and by screenful without being
// copied into one array.
import { describe, expect, it } from 'vitest';
import { Runs } from '../../src-renderer/src/runs';

describe('Runs', () => {
  it('reads by index and slices across runs, each item with its run’s tag, without copying the runs', () => {
    const runs = new Runs<string, number>();
    const long = Array.from({ length: 1000 }, (_, i) => `b${i}`);
    runs.push(['a'], 1);
    runs.push([], 2); // an empty run takes no place
    runs.push(long, 3);
    runs.push(['c', 'd'], 4);
    expect(runs.length).toBe(1003);
    expect([runs.at(0), runs.at(1), runs.at(1000), runs.at(1001), runs.at(1002), runs.at(1003)]).toEqual([
      'a',
      'b0',
      'b999',
      'c',
      'd',
      undefined,
    ]);
    expect(runs.slice(999, 1002)).toEqual([
      { item: 'b998', tag: 3 },
      { item: 'b999', tag: 3 },
      { item: 'c', tag: 4 },
    ]);
    expect(runs.slice(0, 2)).toEqual([
      { item: 'a', tag: 1 },
      { item: 'b0', tag: 3 },
    ]);
    expect(runs.slice(1002, 5000)).toEqual([{ item: 'd', tag: 4 }]);
    expect(runs.slice(2000, 3000)).toEqual([]);
  });
});
