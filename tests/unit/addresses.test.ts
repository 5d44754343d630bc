import { describe, expect, it } from 'vitest';
import { cachedIPv6, decodeHexAddress, formatIPv4, formatIPv6 } from '../../src-main/collect/addresses';
import { isIpLiteral } from '../../src-main/shared/ip-literal';

describe('decoding /proc hex addresses', () => {
  it.each([
    ['0100007F', 'LE', '127.0.0.1'],
    ['7F000001', 'BE', '127.0.0.1'],
    ['00000000', 'LE', '0.0.0.0'],
    ['0A00020F', 'LE', '15.2.0.10'],
  ] as const)('IPv4 %s (%s) is %s', (hex, order, text) => {
    expect(formatIPv4(decodeHexAddress(hex, order)!)).toBe(text);
  });

  it.each([
    ['00000000000000000000000000000000', 'LE', '::'],
    ['00000000000000000000000001000000', 'LE', '::1'],
    ['0000000000000000FFFF00000100007F', 'LE', '::ffff:127.0.0.1'],
    ['000080FE00000000FF005452E43A12FE', 'LE', 'fe80::5254:ff:fe12:3ae4'],
    ['B80D0120000000000000000000000001', 'LE', '2001:db8::100:0'],
    ['20010DB8000000000000000000000001', 'BE', '2001:db8::1'],
  ] as const)('IPv6 %s (%s) is %s', (hex, order, text) => {
    expect(formatIPv6(decodeHexAddress(hex, order)!)).toBe(text);
  });

  it('follows RFC 5952: the longest zero run is compressed, the first on a tie, never a single group', () => {
    const bytes = (groups: number[]) => new Uint8Array(groups.flatMap((g) => [g >> 8, g & 0xff]));
    expect(formatIPv6(bytes([0x2001, 0xdb8, 0, 0, 1, 0, 0, 0]))).toBe('2001:db8:0:0:1::');
    expect(formatIPv6(bytes([0x2001, 0, 0, 1, 0, 0, 1, 1]))).toBe('2001::1:0:0:1:1');
    expect(formatIPv6(bytes([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]))).toBe('2001:db8:0:1:1:1:1:1');
  });

  it('gives an IPv6 text from its cache by the address bytes, made once, within its bound', () => {
    const cache = new Map<string, string>();
    const packet = Buffer.alloc(40);
    const at = (hex: string, offset: number) => Buffer.from(hex, 'hex').copy(packet, offset);
    at('20010db8000000000000000000000001', 8); // 2001:db8::1
    at('00000000000000000000ffff7f000001', 24); // ::ffff:127.0.0.1
    expect(cachedIPv6(packet, 8, cache)).toBe('2001:db8::1');
    expect(cachedIPv6(packet, 24, cache)).toBe('::ffff:127.0.0.1');
    expect(cache.size).toBe(2);
    // Found by bytes, not formatted again:
    cache.set(packet.toString('latin1', 8, 24), 'cached');
    expect(cachedIPv6(packet, 8, cache)).toBe('cached');
    for (let i = 0; cache.size <= 65_536; i++) cache.set(`k${i}`, '');
    at('fe800000000000000000000000000001', 8); // fe80::1, not in the cache
    expect(cachedIPv6(packet, 8, cache)).toBe('fe80::1');
    expect(cache.size).toBe(1); // past its bound the cache starts again
  });

  it.each(['', '0100007', '0100007G', '0100007F00', 'x'.repeat(32)])('refuses %j', (hex) => {
    expect(decodeHexAddress(hex, 'LE')).toBeNull();
  });
});

describe('IP literals (the port doctor binds only these)', () => {
  it('accepts IPv4 and IPv6 literals and refuses host names, ranges and zones', () => {
    for (const good of [
      '127.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '::',
      '::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '1:2:3:4:5:6:7:8',
      '1::',
      '1:2:3:4:5:6:1.2.3.4',
    ])
      expect(isIpLiteral(good), good).toBe(true);
    for (const bad of [
      '999.1.1.1',
      '1.2.3',
      '01.2.3.4',
      'localhost',
      'dead.beef',
      '1:2:3',
      ':::',
      '1::2::3',
      '::1%lo',
      '1.2.3.4:80',
      '',
      ' 127.0.0.1',
      '1:2:3:4:5:6:7:8:9',
      '::1.2.3.4.5',
    ])
      expect(isIpLiteral(bad), bad).toBe(false);
  });
});
