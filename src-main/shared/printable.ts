// Text from the kernel or a snapshot file (a Unix path, a command line) may hold control
// characters: shown raw, a newline forges a row and an escape sequence drives the terminal.

/** The text with control characters shown escaped (\n, \t, \x1b). */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
