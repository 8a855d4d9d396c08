// The desktop app's quit hook for Settings → Updates' "install on restart", without Electron types
// so it is testable: on `will-quit`, stop the core; if a staged update is marked, hold the quit,
// apply it (src/registry/node/app-install.ts: hash again; AppImage atomic replace with .old; deb
// pkexec apt-get), log the outcome, then exit. Never throws; a failure is left for Settings to show.
import { applyOnQuit, readPending } from '../src/registry/node/app-install.ts';
import type { AppLog } from './app-log.ts';

export interface QuitHookOptions {
  home: string;
  /** the running app's version (app.getVersion()) */
  version: string;
  log: Pick<AppLog, 'line'>;
  /** stop the core's utility process */
  stopCore: () => void;
  /** leave now (app.exit) */
  exit: (code: number) => void;
  env?: NodeJS.ProcessEnv;
}

/** A `will-quit` listener; resolves `done` (for tests) once an install it started has finished. */
export function updateOnQuit(opts: QuitHookOptions): { onWillQuit: (e: { preventDefault(): void }) => void; done: () => Promise<void> } {
  let installing: Promise<void> | undefined;
  const onWillQuit = (e: { preventDefault(): void }): void => {
    opts.stopCore();
    if (installing) return;
    let pending;
    try {
      pending = readPending(opts.home);
    } catch (err) {
      opts.log.line(`staged update not usable: ${(err as Error).message}`);
      return;
    }
    if (!pending?.installOnRestart) return;
    e.preventDefault();
    opts.log.line(`installing Outpost ${pending.version} (release ${pending.release}) before quitting`);
    installing = applyOnQuit({ home: opts.home, currentVersion: opts.version, ...(opts.env ? { env: opts.env } : {}) }).then((r) => {
      opts.log.line(r.state === 'installed' ? `installed Outpost ${r.version}: ${r.plan.summary}`
        : r.state === 'failed' ? `update not installed: ${r.message}`
          : `update not installed: ${r.state === 'nothing' ? r.reason : r.plan.summary}`);
    }).finally(() => opts.exit(0));
  };
  return { onWillQuit, done: () => installing ?? Promise.resolve() };
}
