// The command line behaves like the tools developers know (git, gh, docker, kubectl): every verb
// has --help (exit 0), `porthole help VERB` is the same, --version prints the version, and a
// misspelt verb or option is one line on stderr with a suggestion and exit 2, never a usage dump.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runPorthole } from '../helpers/cli';

const VERBS = ['snapshot', 'who', 'kill', 'close', 'wait', 'diff', 'watch', 'serve', 'exporter'];

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

  it('lists every verb with what it does, with no verb, --help or help', () => {
    const help = runPorthole([]);
    expect(help.status).toBe(0);
    for (const verb of VERBS) expect(help.stdout).toMatch(new RegExp(`^  ${verb}\\b.*\\w`, 'm'));
    expect(runPorthole(['--help']).stdout).toBe(help.stdout);
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

  it('says what is wrong with an argument in one line, and where the help is', () => {
    const run = runPorthole(['who', 'abc']);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^porthole who: "abc" is not a port: .* See "porthole who --help"\.$/m);
  });
});
