// An owner as a developer knows it: "node server.js" in ~/code/shop-api, not pid 48213 and a
// 300-character command line. Pure: every view and the CLI name owners the same way.

import type { ProcessInfo } from '../shared/contract';
import { describeContainer } from './namespaces';

/**
 * Programs whose first argument says what runs (`node server.js`, `python3 manage.py`,
 * `npm run dev`): for them the short command keeps that argument; for others it is the program.
 */
const RUNNERS = new Set([
  'node',
  'nodejs',
  'deno',
  'bun',
  'python',
  'python2',
  'python3',
  'ruby',
  'perl',
  'php',
  'java',
  'dotnet',
  'sh',
  'bash',
  'zsh',
  'npm',
  'npx',
  'pnpm',
  'yarn',
  'cargo',
  'go',
  'uvicorn',
  'gunicorn',
]);
/** Package managers whose verb is followed by the script's name (`npm run dev`). */
const SCRIPT_VERBS = new Set(['run', 'run-script', 'exec', 'x']);
/** The longest short command shown; longer ones are cut at the end. */
export const SHORT_COMMAND_CHARS = 40;

const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** `node server.js`, `npm run dev`, `postgres`: the program and, for a runner, what it runs. */
export function shortCommand(process: Pick<ProcessInfo, 'name' | 'command'>): string {
  const words = process.command.split(' ').filter(Boolean);
  if (words.length === 0) return process.name;
  // A program may rename itself (`postgres: checkpointer`, `nginx: worker process`): keep its name.
  const program = base(words[0]).replace(/:$/, '');
  if (!/^[\w.+-]+$/.test(program)) return process.name;
  let short = program;
  if (RUNNERS.has(program.replace(/[\d.]+$/, ''))) {
    const rest = words.slice(1);
    const at = rest.findIndex((w) => !w.startsWith('-'));
    if (at >= 0) {
      short += ` ${base(rest[at])}`;
      if (SCRIPT_VERBS.has(rest[at]) && rest[at + 1] !== undefined) short += ` ${rest[at + 1]}`;
    }
  }
  return short.length <= SHORT_COMMAND_CHARS ? short : `${short.slice(0, SHORT_COMMAND_CHARS - 1)}…`;
}

/**
 * Where the owner was started, as its user would write it (`~/code/shop-api`); null for `/` and
 * for no folder (daemons run from the root: it names nothing).
 */
export function projectFolder(process: Pick<ProcessInfo, 'cwd' | 'user'>): string | null {
  const { cwd, user } = process;
  if (cwd === null || cwd === '/' || cwd === '') return null;
  const home = user === 'root' ? '/root' : user ? `/home/${user}` : null;
  if (home !== null && (cwd === home || cwd.startsWith(`${home}/`))) return `~${cwd.slice(home.length)}`;
  return cwd;
}

/** Where an owner runs, as the UI says it: its container, else its project folder. */
export function ownerPlace(process: Pick<ProcessInfo, 'cwd' | 'user' | 'container'>): string | null {
  return process.container ? describeContainer(process.container) : projectFolder(process);
}

/** `node ← npm run dev ← zsh`: the process and its parents, nearest first. */
export function parentChain(process: Pick<ProcessInfo, 'name' | 'command' | 'parents'>): string {
  return [shortCommand(process), ...(process.parents ?? []).map((p) => p.name)].join(' ← ');
}
