// A socket as the OSes without socket inodes give it (Windows' tables, lsof's network files,
// netstat's lines): its protocol, its endpoints, its state and the pid that holds it. One shape
// for every such engine; Linux's rows carry their inode and are built where they are read.

import type { Socket } from '../shared/contract';

export interface Endpoint {
  address: string;
  port: number;
}

export function inodelessSocket(fields: {
  protocol: Socket['protocol'];
  family: Socket['family'];
  local: Endpoint;
  /** null: none (a listener, a bound UDP socket). */
  remote: Endpoint | null;
  state: Socket['state'];
  pid: number | null;
  processName: string | null;
}): Socket {
  return {
    protocol: fields.protocol,
    family: fields.family,
    localAddress: fields.local.address,
    localPort: fields.local.port,
    remoteAddress: fields.remote?.address ?? null,
    remotePort: fields.remote?.port ?? null,
    state: fields.state,
    pid: fields.pid,
    processName: fields.processName,
    uid: null,
    // No inode: such a socket is told apart by its protocol and endpoints (and its owner).
    inode: 0,
    pids: fields.pid === null ? [] : [fields.pid],
    lastPid: null,
  };
}
