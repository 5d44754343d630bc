// IP addresses as the kernels give them (bytes in network order, /proc's hex words) in the text forms `ss` prints.

/**
 * The kernel prints each 32-bit word of an address in host byte order, so on little-endian
 * machines the bytes of every word come out reversed.
 */
export type ByteOrder = 'LE' | 'BE';

const HEX_DIGIT = /^[0-9A-Fa-f]+$/;

/** Bytes of a /proc hex address (8 or 32 digits), or null when it is not one. */
export function decodeHexAddress(hex: string, order: ByteOrder): Uint8Array | null {
  if ((hex.length !== 8 && hex.length !== 32) || !HEX_DIGIT.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let word = 0; word < hex.length / 8; word++) {
    for (let i = 0; i < 4; i++) {
      const byte = parseInt(hex.substr(word * 8 + i * 2, 2), 16);
      bytes[word * 4 + (order === 'LE' ? 3 - i : i)] = byte;
    }
  }
  return bytes;
}

// The texts below are joined, not concatenated: a string made with `+` or a template of 13
// characters or more is a tree of its pieces in V8, kept whole for as long as the text is (a row's
// address, a socket's key); join() writes one flat string.

export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return [bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]].join('.');
}

/**
 * The text of the IPv4 address at `at` (network order), from a cache kept by the caller: a table
 * repeats few addresses (127.0.0.1 …), and building the string is most of the cost.
 */
export function cachedIPv4(bytes: Buffer, at: number, cache: Map<number, string>): string {
  const value = bytes.readUInt32BE(at);
  let text = cache.get(value);
  if (text === undefined) {
    text = formatIPv4(bytes, at);
    if (cache.size > 65_536) cache.clear();
    cache.set(value, text);
  }
  return text;
}

/**
 * The text of the IPv6 address at `at`, from a cache kept by the caller (keyed by its 16 bytes as
 * latin1): formatting one makes an array, eight numbers' texts and three joins, for every IPv6 row
 * of every poll.
 */
export function cachedIPv6(bytes: Buffer, at: number, cache: Map<string, string>): string {
  const value = bytes.toString('latin1', at, at + 16);
  let text = cache.get(value);
  if (text === undefined) {
    text = formatIPv6(bytes.subarray(at, at + 16));
    if (cache.size > 65_536) cache.clear(); // bound: a host with more addresses than this formats some twice
    cache.set(value, text);
  }
  return text;
}

/** RFC 5952 text: lower case, the longest run of zero groups compressed, IPv4-mapped as ::ffff:a.b.c.d. */
export function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) return ['::ffff:', formatIPv4(bytes, 12)].join('');

  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return [head, tail].join('::');
}

/** The unspecified address of a family: a remote end that is not connected. */
export function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}
