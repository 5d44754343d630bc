// Text from the kernel or a snapshot file (a Unix path, a command line) may hold control
// characters: shown raw, a newline forges a row, an escape sequence drives the terminal, and a
// bidirectional override makes text read differently from what it is.

// C0 and C1 controls, bidirectional marks, embeddings, overrides and isolates, and the Unicode line
// and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The text with control characters shown escaped (\n, \t, \x1b, \u202e). */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

/** Text cut in the middle to at most `max` characters ("2001:db8:85a3…8a2e:370]:443"), as `docker ps` does. */
export function elideMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, max);
  const tail = Math.floor((max - 1) / 2);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(text.length - tail)}`;
}
