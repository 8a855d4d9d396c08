// Settings → Updates behind the contract (the same in serve mode and in the Electron app): the
// running version, a check against the connected hub (registry/node/app-update.ts: TUF, signed
// hashes, staged in updates/), the staged file's hash checked again, what installing it does here
// (registry/node/app-install.ts), and "install on restart". The app applies it when it quits.
import fs from 'node:fs';
import { OutpostError } from '../../common/errors.ts';
import { installPlan, readLastFailure, readLastInstall, readPending, scheduleInstall, stagedState, type StagedState } from '../../registry/node/app-install.ts';
import { checkAppUpdate, compareVersions, type PendingUpdate } from '../../registry/node/app-update.ts';
import { PullUnavailable } from '../../registry/node/errors.ts';
import { getHubSetting, type Store } from '../../store/node/store.ts';
import { OUTPOST_VERSION } from '../../sync/node/device.ts';
import type { AppUpdateView } from '../common/contract.ts';

export interface AppUpdatesOptions {
  store: Store;
  /** the running version (default: package.json's) */
  currentVersion?: string;
  env?: NodeJS.ProcessEnv;
}

export function createAppUpdates(opts: AppUpdatesOptions) {
  const { store } = opts;
  const current = opts.currentVersion ?? OUTPOST_VERSION;
  const platform = `${process.platform}-${process.arch}`;
  const env = opts.env ?? process.env;
  let lastCheck: AppUpdateView['check'] = null;
  let checking = false;
  // hashing a large installer on every view is wasteful: keyed by what would change with its bytes
  let hashed: { key: string; state: StagedState } | undefined;

  const verify = async (p: PendingUpdate): Promise<StagedState> => {
    let key: string;
    try {
      const st = fs.statSync(p.installer);
      key = `${p.installer}|${p.sha256}|${st.size}|${st.mtimeMs}|${st.ino}`;
    } catch {
      return stagedState(p);
    }
    if (hashed?.key !== key) hashed = { key, state: await stagedState(p) };
    return { ...hashed.state, pending: p };
  };

  const view = async (): Promise<AppUpdateView> => {
    let staged: AppUpdateView['staged'] = null;
    let stagedError: string | null = null;
    try {
      const p = readPending(store.home);
      if (p && compareVersions(p.version, current) > 0) {
        const s = await verify(p);
        const plan = installPlan(p, env);
        staged = {
          version: p.version, release: p.release, file: p.file, installer: p.installer, hub: p.hub, sha256: p.sha256, length: p.length, stagedAt: p.stagedAt,
          verified: s.verified, problem: s.problem ?? null, installOnRestart: p.installOnRestart === true,
          plan: { kind: plan.kind, summary: plan.summary, command: plan.kind === 'deb' ? plan.command : null },
        };
      }
    } catch (e) {
      stagedError = (e as Error).message;
    }
    const last = readLastInstall(store.home);
    const failure = readLastFailure(store.home);
    return {
      current, platform, hub: getHubSetting(store)?.url ?? null, check: lastCheck, staged, stagedError,
      lastInstall: last ? { version: last.version, release: last.release, from: last.from, kind: last.kind, target: last.target, backup: last.backup ?? null, at: last.at } : null,
      lastFailure: failure ? { version: failure.version, message: failure.message, at: failure.at } : null,
    };
  };

  return {
    view,
    async check(): Promise<AppUpdateView> {
      const hub = getHubSetting(store);
      if (!hub) throw new OutpostError('usage', 'this workstation is not connected to a hub: connect it under "Hub and sync", then check for updates');
      if (checking) throw new OutpostError('conflict', 'an update check is already running');
      checking = true;
      try {
        const r = await checkAppUpdate({ home: store.home, hubUrl: hub.url, currentVersion: current, platform });
        lastCheck = { state: r.state, version: r.release?.version ?? null, release: r.release?.release ?? null, at: new Date().toISOString() };
      } catch (e) {
        lastCheck = null; // the error is the news now
        // unreachable: nothing suspicious, try later; refused: recorded as a security event by checkAppUpdate
        if (e instanceof PullUnavailable) throw new OutpostError('input', `could not check for updates: ${e.message}. Nothing changed; try again when the hub is reachable`);
        throw e;
      } finally {
        checking = false;
      }
      return view();
    },
    async installOnRestart(enabled: boolean): Promise<AppUpdateView> {
      await scheduleInstall(store.home, enabled, env);
      hashed = undefined;
      return view();
    },
  };
}
