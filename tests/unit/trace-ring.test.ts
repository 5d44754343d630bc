// The binary trace reader against the kernel's own text of the same events: pages read from
// trace_pipe_raw and the instance's `trace` file, recorded together from this kernel
// (tests/fixtures/tracefs/raw/SOURCE.md), with the layouts tracefs gave.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLostFromStats, parseTraceLine } from '../../src-main/collect/linux/tcp-state-events';
import {
  parsePageLayout,
  parseTcpEventLayout,
  parseTracePage,
  type PageLayout,
  type TcpEventLayout,
} from '../../src-main/collect/linux/trace-ring';
import type { KernelTcpEvent } from '../../src-main/track/connection-chains';

const raw = (name: string) => readFileSync(join(__dirname, '../fixtures/tracefs/raw', name));
const PAGE = 4096;
const pageLayout = parsePageLayout(raw('header_page').toString('latin1'))!;
const eventLayout = parseTcpEventLayout(raw('inet_sock_set_state.format').toString('latin1'))!;

function pagesOf(file: string): Buffer[] {
  const data = raw(file);
  const pages: Buffer[] = [];
  for (let at = 0; at < data.length; at += PAGE) pages.push(data.subarray(at, at + PAGE));
  return pages;
}

/** The first page that holds events. */
const firstPage = () => [...pagesOf('cpu0.pages'), ...pagesOf('cpu1.pages')][0];

function readAll(layout: PageLayout = pageLayout, event: TcpEventLayout = eventLayout) {
  const events: KernelTcpEvent[] = [];
  let skipped = 0;
  let missed = 0;
  for (const file of ['cpu0.pages', 'cpu1.pages'])
    for (const page of pagesOf(file)) {
      const parsed = parseTracePage(page, layout, event, 0);
      events.push(...parsed.events);
      skipped += parsed.skipped;
      missed += parsed.missed;
    }
  return { events, skipped, missed };
}

/** An event as text, its time in whole µs as the kernel prints it. */
const key = (e: KernelTcpEvent, µs: number) =>
  `${µs} ${e.pid} ${e.family} ${e.localAddress}:${e.localPort} ${e.remoteAddress}:${e.remotePort} ${e.from}>${e.to}`;

describe('trace ring pages', () => {
  it('reads the layouts tracefs describes', () => {
    expect(pageLayout).toEqual({ commitOffset: 8, commitSize: 8, dataOffset: 16 });
    expect(eventLayout).toMatchObject({ pid: 4, oldstate: 16, newstate: 20, sport: 24, family: 28, saddrV6: 40 });
  });

  it('gives exactly the events the kernel printed as text, field by field', () => {
    const text = raw('trace.txt')
      .toString('utf8')
      .split('\n')
      .flatMap((line) => parseTraceLine(line, 0) ?? []);
    const binary = readAll();
    expect(binary.missed).toBe(0);
    expect(binary.skipped).toBe(0);
    expect(binary.events.length).toBeGreaterThan(20);
    // The kernel prints times rounded to the µs.
    expect(binary.events.map((e) => key(e, Math.round(e.at * 1000))).sort()).toEqual(
      text.map((e) => key(e, Math.round(e.at * 1000))).sort(),
    );
    // The recording holds each family and a v4 client of a dual-stack listener.
    expect(binary.events.some((e) => e.family === 6 && e.localAddress === '::1')).toBe(true);
    expect(binary.events.some((e) => e.family === 6 && e.localAddress.startsWith('::ffff:'))).toBe(true);
  });

  it('reports events the kernel lost before a page, with the count when it stored one', () => {
    const page = Buffer.from(firstPage());
    const commit = page.readBigUInt64LE(8);
    const length = Number(commit & 0xfffffffn);
    page.writeBigUInt64LE(commit | (1n << 31n), 8);
    expect(parseTracePage(page, pageLayout, eventLayout, 0).missed).toBe(-1);
    if (16 + length + 8 <= PAGE) {
      page.writeBigUInt64LE(commit | (1n << 31n) | (1n << 30n), 8);
      page.writeBigUInt64LE(1234n, 16 + length);
      const parsed = parseTracePage(page, pageLayout, eventLayout, 0);
      expect(parsed.missed).toBe(1234);
      expect(parsed.events.length).toBeGreaterThan(0);
    }
  });

  it('skips records of another event id and stops at a page cut short, never reading past it', () => {
    const other = { ...eventLayout, id: eventLayout.id + 1 };
    const parsed = parseTracePage(firstPage(), pageLayout, other, 0);
    expect(parsed.events).toEqual([]);
    expect(parsed.skipped).toBeGreaterThan(0);
    const full = parseTracePage(firstPage(), pageLayout, eventLayout, 0).events.length;
    for (const cut of [0, 8, 16, 17, 100, 1000]) {
      const short = firstPage().subarray(0, cut);
      expect(parseTracePage(short, pageLayout, eventLayout, 0).events.length).toBeLessThanOrEqual(full);
    }
    // A commit length beyond the page is bounded by the page.
    const page = Buffer.from(firstPage());
    page.writeBigUInt64LE(0xffffffn, 8);
    expect(() => parseTracePage(page, pageLayout, eventLayout, 0)).not.toThrow();
  });

  it('refuses layouts it does not know', () => {
    expect(parsePageLayout('')).toBeNull();
    const format = raw('inet_sock_set_state.format').toString('latin1');
    expect(parseTcpEventLayout(format.replace('field:int newstate', 'field:int renamed'))).toBeNull();
    expect(parseTcpEventLayout(format.replace(/offset:20;\tsize:4;/, 'offset:20;\tsize:8;'))).toBeNull();
    expect(parseTcpEventLayout(format.replace(/^ID: \d+/m, 'ID: x'))).toBeNull();
  });
});

describe('what the kernel could not keep', () => {
  it('reads the events overwritten or dropped from each CPU’s stats', () => {
    expect(parseLostFromStats(raw('cpu1.stats').toString('latin1'))).toBe(2862);
    expect(parseLostFromStats(raw('cpu0.stats').toString('latin1'))).toBe(0);
    const all = 'overrun: 5\ncommit overrun: 2\ndropped events: 3\nread events: 99\n';
    expect(parseLostFromStats(all)).toBe(10);
    expect(parseLostFromStats('')).toBe(0);
  });
});
