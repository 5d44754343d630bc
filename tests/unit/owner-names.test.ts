// Owners named as developers know them: the short command, the project folder, the parent chain.
import { describe, expect, it } from 'vitest';
import { parentChain, projectFolder, shortCommand, SHORT_COMMAND_CHARS } from '../../src-main/track/owner-names';

describe('owner names', () => {
  it('keep what a runner runs, and only the program otherwise', () => {
    const short = (name: string, command: string) => shortCommand({ name, command });
    expect(short('node', '/usr/bin/node /home/ana/code/shop-api/server.js --port 3000')).toBe('node server.js');
    expect(short('node', 'node --inspect dist/main.js')).toBe('node main.js');
    expect(short('npm run dev', 'npm run dev')).toBe('npm run dev');
    expect(short('python3', '/usr/bin/python3.11 -m http.server 8000')).toBe('python3.11 http.server');
    expect(short('postgres', '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main')).toBe('postgres');
    expect(short('postgres', 'postgres: checkpointer ')).toBe('postgres');
    expect(short('kworker/0:1', '')).toBe('kworker/0:1');
    expect(short('node', `node ${'x'.repeat(80)}.js`)).toHaveLength(SHORT_COMMAND_CHARS);
  });

  it('name the project folder from the home of its user', () => {
    expect(projectFolder({ cwd: '/home/ana/code/shop-api', user: 'ana' })).toBe('~/code/shop-api');
    expect(projectFolder({ cwd: '/root/work', user: 'root' })).toBe('~/work');
    expect(projectFolder({ cwd: '/home/anabel/x', user: 'ana' })).toBe('/home/anabel/x');
    expect(projectFolder({ cwd: '/', user: 'postgres' })).toBeNull();
    expect(projectFolder({ cwd: null, user: null })).toBeNull();
  });

  it('chain the parents, nearest first', () => {
    expect(
      parentChain({
        name: 'node',
        command: 'node server.js',
        parents: [
          { pid: 10, name: 'npm run dev' },
          { pid: 9, name: 'zsh' },
        ],
      }),
    ).toBe('node server.js ← npm run dev ← zsh');
    expect(parentChain({ name: 'sshd', command: '' })).toBe('sshd');
  });
});
