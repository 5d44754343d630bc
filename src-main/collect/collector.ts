// The one interface every platform's collector implements; nothing outside collect/ knows the OS.

import type { Scan } from '../shared/contract';

export type { Scan };

export interface Collector {
  /** Reads the table now. Never rejects for a process that vanished or a row that did not parse. */
  collect(): Promise<Scan>;
}
