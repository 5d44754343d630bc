// The busiest ports and owners a chart sample keeps: picked in one pass, as a stable sort of every
// count would pick them (counts come in a Map's order; equal ones keep it).
import { describe, expect, it } from 'vitest';
import { busiest, CHART_KEYS } from '../../src-renderer/src/stores/samples';

const bySorting = (counts: Map<number, number>) =>
  Object.fromEntries(
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, CHART_KEYS)
      .map(([key, n]) => [String(key), n]),
  );

describe('a sample’s busiest keys', () => {
  it('are the largest counts, ties to the one counted first, as sorting them all would keep', () => {
    // A seeded generator (xorshift32): the same cases every run.
    let seed = 29;
    const next = (below: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % below;
    };
    for (const [size, spread] of [
      [0, 1],
      [10, 3],
      [64, 5],
      [65, 2],
      [500, 4],
      [50_000, 1],
      [50_000, 40],
    ]) {
      const counts = new Map<number, number>();
      while (counts.size < size) counts.set(1024 + next(64_000), 1 + next(spread));
      const picked = busiest(counts);
      expect(picked, `${size} counts up to ${spread}`).toEqual(bySorting(counts));
      expect(Object.keys(picked)).toHaveLength(Math.min(size, CHART_KEYS));
    }
  });

  it('keeps the first counted among equals past the bound, and a larger one counted last', () => {
    const counts = new Map<number, number>();
    for (let port = 1; port <= 100; port++) counts.set(port, 1);
    counts.set(5000, 2);
    const picked = busiest(counts);
    expect(picked['5000']).toBe(2);
    expect(
      Object.keys(picked)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([...Array.from({ length: CHART_KEYS - 1 }, (_, i) => i + 1), 5000]);
  });
});
