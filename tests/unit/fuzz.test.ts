// Property-based fuzzing (issue 10): every parser of untrusted input gets thousands of generated
// inputs — the snapshot and recording importers, the IPC/WebSocket request validator, the /proc/net
// parsers. A crash (any throw but the parser's own refusal), a slow input, a write to
// Object.prototype, or an accepted value that breaks the contract fails. Each property is bounded
// in time, so the whole file takes seconds.
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImportError, parseSnapshot } from '../../src-main/export/import-snapshot';
import { parseRecording } from '../../src-main/export/import-recording';
import { parseRendererRequest } from '../../src-main/shared/ipc';
import { isIpLiteral } from '../../src-main/shared/ip-literal';
import { parseInetTable } from '../../src-main/collect/linux/proc-net';
import { parseUnixTable } from '../../src-main/collect/linux/proc-net-unix';
import {
  PROTOCOLS,
  SOCKET_STATES,
  type Snapshot,
  type Socket,
  type StreamMessage,
} from '../../src-main/shared/contract';

/** Runs per property, and a wall-clock cap per property: plenty of cases, never a slow CI. */
const RUNS = { numRuns: 3000, interruptAfterTimeLimit: 4000 };
/** No single input may take this long: a parser that does is a denial of service. */
const SLOW_MS = 250;

const FIXTURES = join(__dirname, '..', 'fixtures');
const validSnapshot = JSON.parse(
  readFileSync(join(FIXTURES, 'hostile-snapshots', 'valid.snapshot'), 'utf8'),
) as Snapshot;
const prototypeNames = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');
const PROTOTYPE = prototypeNames();

/** Calls `parse`; passes its own refusal (`refusal`) through as null, fails on anything else thrown or on slowness. */
function attempt<T>(parse: () => T, refusal: new (...args: never[]) => Error): T | null {
  const started = performance.now();
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof refusal)) throw error;
    return null;
  } finally {
    const took = performance.now() - started;
    if (took > SLOW_MS) throw new Error(`one input took ${took.toFixed(0)} ms`);
    if (prototypeNames() !== PROTOTYPE || ({} as Record<string, unknown>).polluted !== undefined)
      throw new Error('Object.prototype was written');
  }
}

const port = (p: unknown) => p === null || (Number.isInteger(p) && (p as number) >= 0 && (p as number) <= 65535);
const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;

/** The contract of a socket, checked independently of the importer's own code. */
function checkSocket(s: Socket): void {
  expect(PROTOCOLS).toContain(s.protocol);
  expect(SOCKET_STATES).toContain(s.state);
  expect([4, 6, null]).toContain(s.family);
  expect(typeof s.localAddress).toBe('string');
  expect(port(s.localPort) && port(s.remotePort)).toBe(true);
  expect(s.remoteAddress === null || typeof s.remoteAddress === 'string').toBe(true);
  expect(s.pid === null || (Number.isInteger(s.pid) && s.pid > 0)).toBe(true);
  expect(Array.isArray(s.pids) && s.pids.every((p) => Number.isInteger(p) && p > 0)).toBe(true);
  expect(count(s.inode)).toBe(true);
}

/** Keys an attacker would try, mixed with ordinary ones. */
const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted', 'sockets', 'pid', 'state', 'toString'),
  fc.string({ maxLength: 8 }),
);
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    // Integers at and beyond the edges of what fields allow (ports, pids, counts).
    fc.integer(),
    fc.constantFrom(-1, 0, 1, 65535, 65536, 2 ** 22, 2 ** 31, 2 ** 53, 1e21),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A valid document with one value somewhere replaced, or one key added. */
function mutated(document: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(document, []);
  return fc
    .tuple(fc.constantFrom(...paths), hostileJson, fc.boolean(), hostileKey)
    .map(([path, replacement, addKey, key]) => {
      const copy = structuredClone(document) as Record<string | number, unknown>;
      if (path.length === 0) return addKey ? { ...copy, [key]: replacement } : replacement;
      let parent = copy as Record<string | number, unknown>;
      for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
      const last = path[path.length - 1];
      if (addKey && parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last]))
        Object.defineProperty(parent[last], key, { value: replacement, enumerable: true, configurable: true });
      else parent[last] = replacement;
      return copy;
    });
}

describe('fuzzing the snapshot importer', () => {
  it('refuses arbitrary bytes cleanly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        attempt(() => parseSnapshot(bytes), ImportError);
      }),
      RUNS,
    );
  });

  it('refuses or accepts mutated snapshots; what it accepts keeps the contract and reads back the same', () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutated(validSnapshot), (document) => {
        const text = JSON.stringify(document) ?? 'null';
        const snapshot = attempt(() => parseSnapshot(Buffer.from(text)), ImportError);
        if (snapshot === null) return;
        accepted++;
        expect(snapshot.format).toBe('porthole.snapshot');
        expect(snapshot.version).toBe(1);
        snapshot.sockets.forEach(checkSocket);
        expect(parseSnapshot(Buffer.from(JSON.stringify(snapshot)))).toEqual(snapshot);
      }),
      RUNS,
    );
    expect(accepted).toBeGreaterThan(0); // the generator does reach valid documents
  });

  it('never lets a prototype key through, however deep', () => {
    fc.assert(
      fc.property(fc.constantFrom('__proto__', 'constructor', 'prototype'), mutated(validSnapshot), (key, document) => {
        const text = JSON.stringify(document)?.replace(/^\{/, `{"${key}":{"polluted":true},`) ?? 'null';
        if (!text.startsWith('{"')) return;
        const snapshot = attempt(() => parseSnapshot(Buffer.from(text)), ImportError);
        if (key === '__proto__') expect(snapshot).toBeNull();
      }),
      RUNS,
    );
  });
});

describe('fuzzing the recording importer', () => {
  const stats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };
  const socket = validSnapshot.sockets[0];
  const recording: StreamMessage[] = [
    { type: 'resync', resync: { seq: 1, at: '2026-11-24T10:00:00.000Z', sockets: [socket], processes: [], stats } },
    {
      type: 'delta',
      delta: {
        seq: 2,
        since: 1,
        at: '2026-11-24T10:00:01.000Z',
        added: [],
        removed: [],
        changed: [],
        processes: [],
        stats,
      },
    },
  ];

  it('refuses arbitrary lines cleanly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 })), { maxLength: 6 }),
        (lines) => {
          attempt(() => parseRecording(lines.join('\n')), ImportError);
        },
      ),
      RUNS,
    );
  });

  it('accepts only recordings that start with a resync and chain without gaps, with valid sockets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        mutated(recording[0]),
        mutated(recording[1]),
        (which, first, second) => {
          const lines = which === 0 ? [first, recording[1]] : [recording[0], second];
          const messages = attempt(() => parseRecording(lines.map((l) => JSON.stringify(l)).join('\n')), ImportError);
          if (messages === null) return;
          expect(messages[0].type).toBe('resync');
          let seq = messages[0].type === 'resync' ? messages[0].resync.seq : -1;
          for (const m of messages.slice(1)) {
            if (m.type !== 'delta') continue;
            expect(m.delta.since).toBe(seq);
            seq = m.delta.seq;
            m.delta.added.forEach(checkSocket);
          }
          if (messages[0].type === 'resync') messages[0].resync.sockets.forEach(checkSocket);
        },
      ),
      RUNS,
    );
  });
});

describe('fuzzing the IPC and WebSocket request validator', () => {
  const DECLARED: Record<string, string> = {
    subscribe: 'type',
    ack: 'type',
    resync: 'type',
    visibility: 'type,visible',
    interval: 'ms,type',
    doctor: 'address,id,port,protocol,type',
    kill: 'force,id,pid,startedAt,type',
    snapshot: 'id,type',
    save: 'id,name,text,type',
    openFolder: 'id,path,type',
  };
  /** Mostly valid (so requests get accepted and their values checked), sometimes hostile. */
  const mostly = <T, U>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>) =>
    fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: hostile, weight: 1 });
  const field = {
    id: mostly(fc.nat(), fc.oneof(fc.integer(), fc.double(), fc.string())),
    port: mostly(fc.integer({ min: 1, max: 65535 }), fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.double())),
    protocol: mostly(fc.constantFrom('tcp', 'udp'), fc.string({ maxLength: 5 })),
    address: fc.oneof(
      fc.constant(null),
      fc.ipV4(),
      fc.ipV6(),
      fc.domain(),
      fc.string({ maxLength: 20 }),
      // Address-shaped but not addresses: 999.1.1.1, dead.beef, :A
      fc.tuple(fc.nat(999), fc.nat(999), fc.nat(999), fc.nat(999)).map((q) => q.join('.')),
      fc.stringMatching(/^[0-9a-fA-F:.]{2,12}$/),
    ),
    pid: fc.integer({ min: -2, max: 5_000_000 }),
    startedAt: mostly(
      fc.date().map((d) => (Number.isNaN(d.getTime()) ? '' : d.toISOString())),
      fc.string({ maxLength: 50 }),
    ),
    force: mostly(fc.boolean(), fc.string()),
    visible: mostly(fc.boolean(), fc.integer()),
    ms: fc.oneof(fc.integer(), fc.double()),
    name: fc.string({ maxLength: 30 }),
    text: fc.string({ maxLength: 30 }),
    path: fc.string({ maxLength: 30 }),
  };
  type Field = keyof typeof field;
  /** A request of one type with exactly its declared fields (each value hostile or not), sometimes one more. */
  const shaped = fc.constantFrom(...Object.keys(DECLARED)).chain((type) => {
    const keys = DECLARED[type].split(',').filter((k): k is Field => k !== 'type');
    const record = fc.record(
      Object.fromEntries(keys.map((k) => [k, field[k]])) as Record<Field, fc.Arbitrary<unknown>>,
    );
    return fc
      .tuple(record, fc.option(hostileKey))
      .map(([fields, extra]) => (extra === null ? { type, ...fields } : { type, ...fields, [extra]: 1 }));
  });
  const request = fc.oneof(fc.anything(), shaped);

  it('never throws; accepts exactly the declared fields with valid values', () => {
    fc.assert(
      fc.property(request, (value) => {
        const parsed = parseRendererRequest(value);
        if (!parsed.ok) return;
        const r = parsed.request;
        expect(Object.keys(r).sort().join(',')).toBe(DECLARED[r.type]);
        if (r.type === 'doctor') {
          expect(Number.isInteger(r.port) && r.port >= 1 && r.port <= 65535).toBe(true);
          if (r.address !== null) expect(isIP(r.address)).not.toBe(0);
        }
        if (r.type === 'kill') expect(Number.isInteger(r.pid) && r.pid > 1).toBe(true);
        if (r.type === 'interval') expect(r.ms >= 250 && r.ms <= 10_000).toBe(true);
        if (r.type === 'save') expect(r.name).not.toMatch(/[/\\]/);
      }),
      { numRuns: 20_000, interruptAfterTimeLimit: 4000 },
    );
  });

  it('agrees with Node on what an IP address is (zones aside)', () => {
    const ipish = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.stringMatching(/^[0-9a-fA-F:.]{0,45}$/),
      fc.ipV6().map((a) => a.replace(/:/g, (c, i) => (i % 3 ? c : '::'))),
    );
    fc.assert(
      fc.property(ipish, (text) => {
        expect(isIpLiteral(text), text).toBe(isIP(text) !== 0);
      }),
      RUNS,
    );
  });
});

describe('fuzzing the /proc/net parsers', () => {
  const tcpLines = readFileSync(join(FIXTURES, 'proc', 'tcp'), 'latin1').split('\n');
  const unixText = readFileSync(join(FIXTURES, 'proc', 'unix'), 'latin1');
  /** A real line with a few bytes changed, cut or inserted: what a racing kernel or a forger makes. */
  const damagedLine = fc
    .tuple(
      fc.constantFrom(...tcpLines.slice(1)),
      fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 3 }), fc.nat(3)), { maxLength: 4 }),
    )
    .map(([line, edits]) =>
      edits.reduce((text, [at, insert, remove]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + remove);
      }, line),
    );

  it('inet tables: never throw, skip what is malformed, and every row they keep is a valid socket', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(damagedLine, fc.string({ maxLength: 160 })), { maxLength: 20 }),
        fc.constantFrom<4 | 6>(4, 6),
        fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
        (lines, family, protocol) => {
          const text = [tcpLines[0], ...lines].join('\n');
          const started = performance.now();
          const { rows, malformed } = parseInetTable(text, protocol, family, 'LE');
          expect(performance.now() - started).toBeLessThan(SLOW_MS);
          expect(rows.length + malformed).toBeLessThanOrEqual(lines.length);
          for (const row of rows) {
            checkSocket(row);
            expect(row.family).toBe(family);
            expect(isIP(row.localAddress)).not.toBe(0);
            if (row.remoteAddress !== null) expect(isIP(row.remoteAddress)).not.toBe(0);
          }
        },
      ),
      RUNS,
    );
  });

  it('unix table: never throws, and keeps only rows with a valid inode and state', () => {
    const unixLines = unixText.split('\n');
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...unixLines), fc.string({ maxLength: 120 })), { maxLength: 20 }),
        fc.boolean(),
        (lines, owned) => {
          const evidence = { isOwned: () => owned, isSocketFile: () => owned, seesAllProcesses: !owned };
          const started = performance.now();
          const { rows } = parseUnixTable(lines.join('\n'), evidence);
          expect(performance.now() - started).toBeLessThan(SLOW_MS);
          for (const row of rows) {
            expect(count(row.inode)).toBe(true);
            expect(SOCKET_STATES).toContain(row.state);
          }
        },
      ),
      RUNS,
    );
  });
});
