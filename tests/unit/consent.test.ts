// How the desktop app asks for consent to start its privileged helper, per platform; the commands
// for macOS and Windows (not run here) are checked by taking their quoting apart again.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { consentCommand } from '../../src-main/desktop/consent';

const app = {
  packaged: true,
  resourcesPath: '/opt/Porthole/resources',
  execPath: '/opt/Porthole/porthole-desktop',
  helperScript: '/opt/Porthole/resources/app.asar/out/main/helper.js',
};
/** Paths a user can have: spaces, quotes of every kind, a dollar, a backslash. */
const hostile = `/Users/o'brien/My "Apps"/$HOME \\ Porthole.app/Contents/MacOS/Porthole`;
const rendezvous = {
  path: `/tmp/porthole-helper-x'y/helper.sock`,
  tokenFile: '/tmp/porthole-helper-x/token',
  intervalMs: 1000,
};
const expectedArgs = (exec: string) => [
  exec,
  app.helperScript,
  '--connect',
  rendezvous.path,
  '--token-file',
  rendezvous.tokenFile,
  '--interval',
  '1000',
];

describe('consentCommand', () => {
  it('Linux, installed: pkexec runs the wrapper the polkit policy names, on the app’s pipes', () => {
    expect(consentCommand({ ...app, platform: 'linux' })).toEqual({
      kind: 'pipes',
      command: 'pkexec',
      args: ['/opt/Porthole/resources/porthole-helper'],
    });
  });

  it('Linux, from the source tree: pkexec runs Electron as Node on the built helper', () => {
    expect(consentCommand({ ...app, platform: 'linux', packaged: false })).toEqual({
      kind: 'pipes',
      command: 'pkexec',
      args: ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', app.execPath, app.helperScript],
    });
  });

  it('macOS: an administrator prompt runs a shell line whose words come back exactly, hostile paths included', () => {
    const consent = consentCommand({ ...app, platform: 'darwin', execPath: hostile });
    if (!('launch' in consent)) throw new Error('expected a connect-back launch');
    const { command, args } = consent.launch(rendezvous);
    expect(command).toBe('/usr/bin/osascript');
    const script = /^do shell script "(.*)" with administrator privileges$/s.exec(args[1])![1];
    const line = script.replace(/\\(["\\])/g, '$1'); // AppleScript's string escapes undone
    expect(line.startsWith('ELECTRON_RUN_AS_NODE=1 ')).toBe(true);
    expect(line.endsWith(' >/dev/null 2>&1 &')).toBe(true);
    const words = line.slice('ELECTRON_RUN_AS_NODE=1 '.length, -' >/dev/null 2>&1 &'.length);
    const echoed = execFileSync('sh', ['-c', `printf '%s\\n' ${words}`], { encoding: 'utf8' })
      .trimEnd()
      .split('\n');
    expect(echoed).toEqual(expectedArgs(hostile));
  });

  it('Windows: UAC runs an encoded PowerShell line whose strings come back exactly', () => {
    const exec = `C:\\Users\\o'brien\\AppData\\Local\\Programs\\Porthole\\Porthole.exe`;
    const consent = consentCommand({ ...app, platform: 'win32', execPath: exec });
    if (!('launch' in consent)) throw new Error('expected a connect-back launch');
    const { command, args } = consent.launch(rendezvous);
    expect(command).toBe('powershell.exe');
    expect(args[3]).toMatch(/^Start-Process -FilePath powershell\.exe -Verb RunAs /);
    const encoded = /'-EncodedCommand','([A-Za-z0-9+/=]+)'$/.exec(args[3])![1];
    const inner = Buffer.from(encoded, 'base64').toString('utf16le');
    expect(inner.startsWith("$env:ELECTRON_RUN_AS_NODE='1'; & ")).toBe(true);
    const strings = [...inner.slice(inner.indexOf('& ') + 2).matchAll(/'((?:[^']|'')*)'/g)].map((m) =>
      m[1].replace(/''/g, "'"),
    );
    expect(strings).toEqual(expectedArgs(exec));
  });

  it('says plainly where it is not built', () => {
    expect(consentCommand({ ...app, platform: 'freebsd' })).toEqual({
      unsupported: expect.stringContaining('freebsd'),
    });
  });
});
