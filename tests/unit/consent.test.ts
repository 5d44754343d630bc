// How the desktop app asks for consent to start its privileged helper, per platform.
import { describe, expect, it } from 'vitest';
import { consentCommand } from '../../src-main/serve/consent';

const app = {
  packaged: true,
  resourcesPath: '/opt/Porthole/resources',
  execPath: '/opt/Porthole/porthole-desktop',
  helperScript: '/opt/Porthole/resources/app.asar/out/main/helper.js',
};

describe('consentCommand', () => {
  it('Linux, installed: pkexec runs the wrapper the polkit policy names', () => {
    expect(consentCommand({ ...app, platform: 'linux' })).toEqual({
      command: 'pkexec',
      args: ['/opt/Porthole/resources/porthole-helper'],
    });
  });

  it('Linux, from the source tree: pkexec runs Electron as Node on the built helper', () => {
    expect(consentCommand({ ...app, platform: 'linux', packaged: false })).toEqual({
      command: 'pkexec',
      args: ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', app.execPath, app.helperScript],
    });
  });

  it('says plainly where it is not built', () => {
    expect(consentCommand({ ...app, platform: 'darwin' })).toEqual({ unsupported: expect.stringContaining('macOS') });
    expect(consentCommand({ ...app, platform: 'win32' })).toEqual({ unsupported: expect.stringContaining('Windows') });
  });
});
