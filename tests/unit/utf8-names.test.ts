// Unix socket names as the kernel gives them (bytes): UTF-8, and invalid bytes escaped, not garbled.
import { describe, expect, it } from 'vitest';
import { decodeName } from '../../src-main/collect/linux/utf8';

describe('decodeName', () => {
  it('reads UTF-8 as UTF-8 and writes a byte that is not UTF-8 as \\xNN', () => {
    expect(decodeName(Buffer.from('/run/café-日本.sock'))).toBe('/run/café-日本.sock');
    expect(decodeName(Buffer.from([0x2f, 0x61, 0xff, 0x62]))).toBe('/a\\xffb');
    // A sequence cut short, then valid text: only the stray bytes are escaped.
    expect(decodeName(Buffer.concat([Buffer.from([0xe6, 0x97]), Buffer.from('ok日')]))).toBe('\\xe6\\x97ok日');
    expect(decodeName(Buffer.alloc(0))).toBe('');
  });
});
