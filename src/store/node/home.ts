// Where the appliance keeps its data: --home, else OUTPOST_HOME, else the OS's app-data folder.
import os from 'node:os';
import path from 'node:path';

export function defaultHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Outpost');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Outpost');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'outpost');
}

export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? (env.OUTPOST_HOME || defaultHome(env)));
}
