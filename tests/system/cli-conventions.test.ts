// The command line behaves like the tools developers know (git, gh, docker, kubectl): every verb
// has --help (exit 0), `porthole help VERB` is the same, --version prints the version, and a
// misspelt verb or option is one line on stderr with a suggestion and exit 2, never a usage dump.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, PROJECT_ROOT, runPorthole } from '../helpers/cli';
import { Workload, type ChildInfo } from '../helpers/workload';

const VERBS = ['snapshot', 'who', 'kill', 'close', 'wait', 'diff', 'watch', 'serve', 'exporter', 'completion'];

describe('the command line', () => {
  it.each(VERBS)('prints the help of %s with --help, -h and "help %s", exit 0', (verb) => {
    const help = runPorthole([verb, '--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: porthole ${verb}\\b`));
    expect(help.stdout).toContain('Options:');
    expect(help.stderr).toBe('');
    expect(runPorthole([verb, '-h']).stdout).toBe(help.stdout);
    expect(runPorthole(['help', verb]).stdout).toBe(help.stdout);
  });

  it('lists every verb with what it does, with --help or help', () => {
    const help = runPorthole(['--help']);
    expect(help.status).toBe(0);
    for (const verb of VERBS) expect(help.stdout).toMatch(new RegExp(`^  ${verb}\\b.*\\w`, 'm'));
    expect(runPorthole(['help']).stdout).toBe(help.stdout);
  });

  it('prints its version', () => {
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = runPorthole(['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it('answers a misspelt verb or option in one line, with a suggestion, exit 2', () => {
    for (const [args, line] of [
      [['snapshto'], `porthole: unknown command 'snapshto' (did you mean snapshot?); see "porthole --help".`],
      [
        ['snapshot', '--fromat', 'json'],
        `porthole: unknown option '--fromat' (did you mean --format?); see "porthole snapshot --help".`,
      ],
      [
        ['who', '3000', '--jsno'],
        `porthole: unknown option '--jsno' (did you mean --json?); see "porthole who --help".`,
      ],
    ] as const) {
      const run = runPorthole([...args]);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toBe(`${line}\n`);
      expect(run.stdout).toBe('');
    }
  });

  it('completes verbs and their options in bash, from the verbs themselves', () => {
    const script = runPorthole(['completion', 'bash']).stdout;
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _porthole; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      ).trim();
    expect(complete(['porthole', 'sn'])).toBe('snapshot');
    expect(complete(['porthole', 'w'])).toBe('who wait watch');
    expect(complete(['porthole', 'who', '--j'])).toBe('--json');
    expect(complete(['porthole', 'serve', '--rev'])).toBe('--reverse-dns');
    const refused = runPorthole(['completion', 'tcsh']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^porthole completion: completion takes one shell: bash, zsh, fish\./);
  });

  it('says what is wrong with an argument in one line, and where the help is', () => {
    const run = runPorthole(['who', 'abc']);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^porthole who: "abc" is not a port: .* See "porthole who --help"\.$/m);
  });
});

describe('the output', () => {
  const workload = new Workload();
  const dir = mkdtempSync(join(tmpdir(), 'porthole-cli-'));
  // A Unix socket path about as long as a terminal is wide (sun_path holds at most 107 bytes).
  const longPath = join(dir, `a-rather-long-unix-socket-name-wider-than-its-column-${'x'.repeat(16)}.sock`);
  let server: ChildInfo;
  beforeAll(async () => {
    server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 2 });
    await workload.start({ role: 'unixListen', path: longPath });
  });
  afterAll(async () => {
    await workload.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is text in a pipe, one socket a line with its owner on it, so grep finds whole lines', () => {
    const run = runPorthole(['snapshot']);
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => l.includes(`127.0.0.1:${server.port} `) && l.includes('LISTEN'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`\\b${server.pid}\\b.*\\bnode\\b`));
    // The long path whole: a pipe never cuts.
    expect(run.stdout).toContain(longPath);
  });

  it('fits a terminal of 100 columns, listeners first with their owners, then connections by process', () => {
    // A real terminal (a pty), 100 columns wide; `porthole` alone answers as `porthole snapshot`.
    const out = execFileSync('script', ['-qec', `stty cols 100 rows 50; ${process.execPath} ${CLI}`, '/dev/null'], {
      encoding: 'utf8',
    }).replace(/\r/g, '');
    const lines = out.split('\n');
    expect(lines.filter((l) => l.length > 100)).toEqual([]);
    expect(lines.find((l) => l.startsWith(`${server.port}/tcp`))).toMatch(
      new RegExp(`\\b2\\b.*node socket-child\\.cjs \\(${server.pid}\\)`),
    );
    expect(out).toContain('CONNECTED, BY PROCESS');
    expect(out).toMatch(new RegExp(`^node socket-child\\.cjs \\(${server.pid}\\).* · 2 connected, 1 listening`, 'm'));
  });
});
