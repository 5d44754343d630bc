// What the UI shows of names others chose: escaped as the CLI prints them, identities untouched.
import { describe, expect, it } from 'vitest';
import type { ProcessInfo, StreamMessage } from '../../src-main/shared/contract';
import { socketKey } from '../../src-main/track/identity';
import { escapeAll, escapeMessage } from '../../src-renderer/src/stores/shown-text';
import { tcp } from '../helpers/sockets';

const stats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };

describe('shown text', () => {
  it('escapes process names, command lines, folders and container names, not socket identities', () => {
    const owner: ProcessInfo = {
      pid: 30687,
      ppid: 1,
      name: 'evil\u202e',
      command: 'node\nfake row',
      user: 'u\u001b[31m',
      uid: 1000,
      startedAt: null,
      cwd: '/home/\u2066x',
      container: { runtime: 'docker', id: 'abc', name: 'web\u200f' },
      parents: [{ pid: 1, name: 'sh\u0007' }],
    };
    const unix = {
      ...tcp('127.0.0.1:1', null, { inode: 9 }),
      protocol: 'unix' as const,
      family: null,
      localAddress: '/tmp/a\nb',
      localPort: null,
    };
    const listener = tcp('127.0.0.1:3000', null, { processName: 'evil\u202e', pid: 30687, inode: 1 });
    const keys = [socketKey(unix), socketKey(listener)];
    const message: StreamMessage = {
      type: 'resync',
      resync: { seq: 1, at: '', sockets: [unix, listener], processes: [owner], stats },
    };
    escapeMessage(message);
    expect(owner).toMatchObject({
      name: 'evil\\u202e',
      command: 'node\\nfake row',
      user: 'u\\x1b[31m',
      cwd: '/home/\\u2066x',
      container: { name: 'web\\u200f' },
      parents: [{ name: 'sh\\x07' }],
    });
    expect(listener.processName).toBe('evil\\u202e');
    // Keys and addresses are the host's: a delta names sockets by them.
    expect([socketKey(unix), socketKey(listener)]).toEqual(keys);
    expect(unix.localAddress).toBe('/tmp/a\nb');
    // Once is enough: escaped text escapes to itself.
    escapeMessage(message);
    expect(owner.name).toBe('evil\\u202e');
  });

  it('escapes every string of a reply that is only shown, and leaves the rest', () => {
    expect(escapeAll({ summary: 'a\u202eb', n: 3, list: ['\u001b'], none: null })).toEqual({
      summary: 'a\\u202eb',
      n: 3,
      list: ['\\x1b'],
      none: null,
    });
  });
});
