// A namespace's TCP counters decide which TCP tables a poll reads; parsed from files captured in a
// real namespace (tests/fixtures/proc/SOURCE.md) and from broken ones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTcpCounters, tcpTablesNeeded } from '../../src-main/collect/linux/tcp-counters';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/proc/netns', name), 'latin1');
const sockstat = fixture('sockstat');
const sockstat6 = fixture('sockstat6');
const snmp = fixture('snmp');

describe('TCP counters of a namespace', () => {
  it('reads the namespace’s own counts from captured files', () => {
    const counters = parseTcpCounters(sockstat, sockstat6, snmp)!;
    expect(counters).toMatchObject({ inuse: 1, inuse6: 0, timeWait: 1 });
    expect(counters.signature).toBe('1 0 1 Tcp: 1 200 120000 -1 1 1 0 0 0 6 6 0 0 0 0');
    // A TIME_WAIT could be of either family: both tables are read.
    expect(tcpTablesNeeded(counters)).toEqual({ tcp: true, tcp6: true });
  });

  it('leaves a table unread only when nothing of its kind is there', () => {
    const quiet = sockstat.replace('inuse 1 orphan 0 tw 1', 'inuse 3 orphan 0 tw 0');
    expect(tcpTablesNeeded(parseTcpCounters(quiet, sockstat6, snmp))).toEqual({ tcp: true, tcp6: false });
    const v6Only = quiet.replace('inuse 3', 'inuse 0');
    const six = sockstat6.replace('TCP6: inuse 0', 'TCP6: inuse 2');
    expect(tcpTablesNeeded(parseTcpCounters(v6Only, six, snmp))).toEqual({ tcp: false, tcp6: true });
    expect(tcpTablesNeeded(parseTcpCounters(v6Only, sockstat6, snmp))).toEqual({ tcp: false, tcp6: false });
    // No sockstat6 line at all: IPv6 is off in this kernel.
    expect(parseTcpCounters(v6Only, '', snmp)).toMatchObject({ inuse6: 0 });
  });

  it('ignores the machine-wide values: another namespace’s sockets do not change the signature', () => {
    const before = parseTcpCounters(sockstat, sockstat6, snmp)!.signature;
    const elsewhere = sockstat.replace('orphan 0', 'orphan 7').replace('alloc 2 mem 238', 'alloc 900 mem 4000');
    expect(parseTcpCounters(elsewhere, sockstat6, snmp)!.signature).toBe(before);
    // A segment in this namespace does.
    const segment = snmp.replace('-1 1 1 0 0 0 6 6', '-1 1 1 0 0 0 7 6');
    expect(parseTcpCounters(sockstat, sockstat6, segment)!.signature).not.toBe(before);
  });

  it('gives no counters for files it does not understand: then every table is read', () => {
    for (const [a, b, c] of [
      ['', sockstat6, snmp],
      [sockstat, sockstat6, ''],
      [sockstat.replace('tw 1', 'tw x'), sockstat6, snmp],
      [sockstat.replace('inuse 1', 'inuse -1'), sockstat6, snmp],
      [sockstat, 'TCP6: inuse', snmp],
      [sockstat, sockstat6, snmp.split('\n')[0]], // the header line alone
    ]) {
      expect(parseTcpCounters(a, b, c)).toBeNull();
    }
    expect(tcpTablesNeeded(null)).toEqual({ tcp: true, tcp6: true });
  });
});
