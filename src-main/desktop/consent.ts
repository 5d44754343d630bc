// How the desktop app starts its privileged helper through the platform's own consent dialog.
// Pure: main.ts passes what it knows of the app (packaged or not, where its files are).

export interface AppLocation {
  platform: NodeJS.Platform;
  /** Installed from a package: the helper's wrapper sits in the resources folder. */
  packaged: boolean;
  /** process.resourcesPath (packaged). */
  resourcesPath: string;
  /** The Electron binary (run as Node for the helper in development). */
  execPath: string;
  /** out/main/helper.js. */
  helperScript: string;
}

import type { Rendezvous } from '../poll/channel';

export type ConsentCommand =
  /** Started with the app's pipes as its stdin and stdout (pkexec hands them on). */
  | { kind: 'pipes'; command: string; args: string[] }
  /** Started elevated without the app's pipes: it connects back (see connectBackChannel). */
  | {
      kind: 'connect';
      launch: (rendezvous: Rendezvous & { intervalMs: number }) => { command: string; args: string[] };
    }
  | { unsupported: string };

/** A word for sh: single-quoted, a ' inside closed, escaped and reopened. */
const shellWord = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
/** An AppleScript string literal. */
const appleString = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
/** A PowerShell single-quoted string (a ' inside is doubled). */
const psString = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * Linux: pkexec (polkit asks for an administrator's password; the policy shipped in the package,
 * dev.porthole.helper, names the wrapper so the dialog says what runs), on the app's pipes.
 * macOS: an administrator prompt (osascript's "with administrator privileges", as Sloth does).
 * Windows: UAC (Start-Process -Verb RunAs). Those two do not hand on pipes: the helper connects back.
 */
export function consentCommand(app: AppLocation): ConsentCommand {
  const helperArgs = (r: Rendezvous & { intervalMs: number }) => [
    app.helperScript,
    '--connect',
    r.path,
    '--token-file',
    r.tokenFile,
    '--interval',
    String(r.intervalMs),
  ];
  if (app.platform === 'linux') {
    if (app.packaged) return { kind: 'pipes', command: 'pkexec', args: [`${app.resourcesPath}/porthole-helper`] };
    // Development: no wrapper installed; pkexec's own generic action runs Electron as Node.
    return {
      kind: 'pipes',
      command: 'pkexec',
      args: ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', app.execPath, app.helperScript],
    };
  }
  if (app.platform === 'darwin')
    return {
      kind: 'connect',
      launch: (r) => {
        // Backgrounded, so the prompt's osascript returns once the helper is started.
        const line = `ELECTRON_RUN_AS_NODE=1 ${[app.execPath, ...helperArgs(r)].map(shellWord).join(' ')} >/dev/null 2>&1 &`;
        return {
          command: '/usr/bin/osascript',
          args: ['-e', `do shell script ${appleString(line)} with administrator privileges`],
        };
      },
    };
  if (app.platform === 'win32')
    return {
      kind: 'connect',
      launch: (r) => {
        // The elevated PowerShell sets the variable and runs the helper; handed over encoded (no quoting to get wrong).
        const inner = `$env:ELECTRON_RUN_AS_NODE='1'; & ${[app.execPath, ...helperArgs(r)].map(psString).join(' ')}`;
        const encoded = Buffer.from(inner, 'utf16le').toString('base64');
        return {
          command: 'powershell.exe',
          args: [
            '-NoProfile',
            '-NonInteractive',
            '-Command',
            `Start-Process -FilePath powershell.exe -Verb RunAs -WindowStyle Hidden -ArgumentList '-NoProfile','-EncodedCommand','${encoded}'`,
          ],
        };
      },
    };
  return {
    unsupported: `showing every owner is not built for ${app.platform}; run Porthole's command line as an administrator`,
  };
}
