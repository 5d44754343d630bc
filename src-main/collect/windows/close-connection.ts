// Closing one TCP connection on Windows, as TCPView does: SetTcpEntry with a MIB_TCPROW whose state
// is MIB_TCP_STATE_DELETE_TCB resets it. IPv4 only: Windows has no such call for IPv6. Needs an
// elevated process. The answer is told in the user's words.

import type { CloseOutcome, TcpConnectionEnds } from '../collector';

/** MIB_TCP_STATE_DELETE_TCB: the one state SetTcpEntry may set. */
const DELETE_TCB = 12;
const ERROR_ACCESS_DENIED = 5;
const ERROR_INVALID_PARAMETER = 87;
/** What SetTcpEntry answers for a row that matches no connection (ERROR_MR_MID_NOT_FOUND). */
const ERROR_NOT_FOUND = 317;

/**
 * The MIB_TCPROW (tcpmib.h) that asks for `ends` to be deleted: dwState, dwLocalAddr,
 * dwLocalPort, dwRemoteAddr, dwRemotePort; addresses and ports in network order. Null for an
 * IPv6 connection or an address that is not an IPv4 literal.
 */
export function deleteTcbRow(ends: TcpConnectionEnds): Buffer | null {
  const v4 = (address: string) => {
    const parts = address.replace(/^::ffff:/i, '').split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
    return Buffer.from(parts.map(Number));
  };
  const local = v4(ends.localAddress);
  const remote = v4(ends.remoteAddress);
  if (local === null || remote === null) return null;
  const row = Buffer.alloc(20);
  row.writeUInt32LE(DELETE_TCB, 0);
  local.copy(row, 4);
  row.writeUInt16BE(ends.localPort, 8);
  remote.copy(row, 12);
  row.writeUInt16BE(ends.remotePort, 16);
  return row;
}

/** `name` is how the user knows the connection; `setTcpEntry` makes the call (iphlpapi.ts). */
export function closeWindowsConnection(
  ends: TcpConnectionEnds,
  name: string,
  setTcpEntry: (row: Buffer) => number,
): CloseOutcome {
  const row = deleteTcbRow(ends);
  if (row === null) return { ok: false, reason: 'Windows closes single IPv4 connections only (SetTcpEntry)' };
  const result = setTcpEntry(row);
  if (result === 0) return { ok: true, message: `Closed ${name}: Windows reset it` };
  if (result === ERROR_ACCESS_DENIED || result === ERROR_INVALID_PARAMETER)
    return { ok: false, reason: 'not permitted (closing a connection needs Porthole run as administrator)' };
  if (result === ERROR_NOT_FOUND) return { ok: false, reason: `${name} is gone already` };
  return { ok: false, reason: `Windows refused (error ${result})` };
}
