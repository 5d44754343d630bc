// Whether a text is an IP address literal, checked the same way by the CLI, the IPC schema and the
// UI's address box: the port doctor binds what it is given, so a host name must never reach it (it
// would be looked up in DNS) and neither must an out-of-range IPv4 like 999.1.1.1.

const OCTET = /^(0|[1-9]\d{0,2})$/;
const GROUP = /^[0-9a-fA-F]{1,4}$/;

export function isIPv4Literal(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => OCTET.test(p) && Number(p) <= 255);
}

/** An IPv6 address: eight groups, or fewer around one `::`; the last two may be an IPv4 quad. No zone (`%eth0`). */
export function isIPv6Literal(text: string): boolean {
  if (text.length > 45) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  const all = [...head, ...tail];
  // An embedded IPv4 quad may only come last, and stands for two groups.
  let width = all.length;
  if (all.length > 0 && all[all.length - 1].includes('.')) {
    if (!isIPv4Literal(all[all.length - 1])) return false;
    all.pop();
    width += 1;
  }
  if (!all.every((g) => GROUP.test(g))) return false;
  return halves.length === 2 ? width <= 7 : width === 8;
}

/** An IPv4 or IPv6 address literal (what `net.isIP` accepts, less IPv6 zones). */
export function isIpLiteral(text: string): boolean {
  return text.includes(':') ? isIPv6Literal(text) : isIPv4Literal(text);
}
