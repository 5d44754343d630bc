// Names the kernel hands over as bytes (Unix socket paths): UTF-8 as the file system holds them,
// with any byte that is not part of valid UTF-8 written as \xNN, so nothing is garbled or lost.

const strict = new TextDecoder('utf-8', { fatal: true });

export function decodeName(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    // Rare: decoded a character at a time, the invalid bytes escaped.
  }
  let text = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const length = b < 0x80 ? 1 : b >> 5 === 6 ? 2 : b >> 4 === 14 ? 3 : b >> 3 === 30 ? 4 : 0;
    if (length > 0 && i + length <= bytes.length) {
      try {
        text += strict.decode(bytes.subarray(i, i + length));
        i += length;
        continue;
      } catch {
        // not a valid sequence: escaped below
      }
    }
    text += `\\x${b.toString(16).padStart(2, '0')}`;
    i++;
  }
  return text;
}
