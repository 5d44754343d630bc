// Where Porthole keeps what it remembers for a user (the flight recorder's history): the
// platform's own per-user state folder. Here, because only collect/ asks which OS this is.

import { homedir } from 'node:os';
import { join } from 'node:path';

export function userStateFolder(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'Porthole');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Porthole');
  // XDG: only an absolute path counts; else ~/.local/state.
  const state = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(state, 'porthole');
}
