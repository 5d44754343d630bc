// The heap trim collects once the heap has grown well past the last live size, and not before.
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { heapTrim } from '../../src-main/common/heap-trim';

const usedMb = () => getHeapStatistics().used_heap_size / 2 ** 20;

describe('heap trim', () => {
  it('leaves a heap that grew a little alone, and collects one that grew by tens of MB of garbage', () => {
    const trim = heapTrim();
    trim.check(); // settles the live size it measures from
    const settled = trim.collections;
    trim.check();
    expect(trim.collections).toBe(settled);
    // 64 MB or more of objects, alive while made, garbage once dropped.
    let rows: { i: number; text: string }[] | null = Array.from({ length: 600_000 }, (_, i) => ({
      i,
      text: `row ${i}`,
    }));
    expect(rows.length).toBe(600_000);
    rows = null;
    const before = usedMb();
    trim.check();
    expect(trim.collections).toBe(settled + 1);
    expect(usedMb()).toBeLessThan(before - 32);
    trim.check();
    expect(trim.collections).toBe(settled + 1);
  });
});
