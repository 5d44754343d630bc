// How the desktop app starts its privileged helper through the platform's own consent dialog.
// Pure: index.ts passes what it knows of the app (packaged or not, where its files are).

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

export type ConsentCommand = { command: string; args: string[] } | { unsupported: string };

/**
 * Linux: pkexec (polkit asks for an administrator's password; the policy shipped in the package,
 * dev.porthole.helper, names the wrapper so the dialog says what runs). The helper's stdin and
 * stdout are the app's pipes: pkexec hands them on.
 */
export function consentCommand(app: AppLocation): ConsentCommand {
  if (app.platform === 'linux') {
    if (app.packaged) return { command: 'pkexec', args: [`${app.resourcesPath}/porthole-helper`] };
    // Development: no wrapper installed; pkexec's own generic action runs Electron as Node.
    return { command: 'pkexec', args: ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', app.execPath, app.helperScript] };
  }
  // An administrator prompt (osascript, UAC runas) does not hand on the app's pipes: the helper
  // would have to reach back over a private local socket, which is not built yet.
  return {
    unsupported: `showing every owner is built for Linux (pkexec); on ${app.platform === 'darwin' ? 'macOS' : app.platform === 'win32' ? 'Windows' : app.platform}, run Porthole's command line as an administrator instead`,
  };
}
