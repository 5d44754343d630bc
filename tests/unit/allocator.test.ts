// With malloc's thresholds fixed (collect/linux/allocator.ts), memory freed after a big block has
// been freed goes back to the OS. glibc's default would keep it: freeing the 24 MB block raises
// its mmap threshold to 24 MB, so the 4 MB blocks after it come from the arena and stay there.
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { fixMallocThresholds } from '../../src-main/collect/linux/allocator';

const rssMb = () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const MB = 2 ** 20;

describe.runIf(process.platform === 'linux')("malloc's thresholds", () => {
  it('are fixed, and blocks freed after a big one are given back', () => {
    const libc = koffi.load('libc.so.6');
    const malloc = libc.func('void *malloc(size_t)');
    const free = libc.func('void free(void *)');
    const memset = libc.func('void *memset(void *, int, size_t)');
    expect(fixMallocThresholds()).toBe(true);
    expect(fixMallocThresholds()).toBe(true); // once: the second call only answers

    const big = malloc(24 * MB);
    memset(big, 1, 24 * MB);
    free(big);
    const before = rssMb();
    const blocks = Array.from({ length: 8 }, () => {
      const block = malloc(4 * MB);
      memset(block, 1, 4 * MB); // touched: counted in RSS
      return block;
    });
    expect(rssMb()).toBeGreaterThan(before + 24);
    for (const block of blocks) free(block);
    expect(rssMb()).toBeLessThan(before + 8);
  });
});
