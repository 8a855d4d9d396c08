// Settings → Updates: the running Outpost, a check against the connected hub (signed releases
// verified with TUF like a model pull, downloaded and staged), the staged installer with its signed
// sha256 checked again, what installing it does here, and "install on restart" (the app applies it
// when it quits). The same contract in serve mode and in the Electron app.
import { useState } from 'react';
import type { AppUpdateView } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { bytes, when } from '../format.ts';
import { asApiError, useCall, useClient } from '../state.tsx';
import { ErrorBox, Section } from './common.tsx';

function checkLine(v: AppUpdateView): string | null {
  const c = v.check;
  if (!c) return null;
  const at = when(c.at);
  switch (c.state) {
    case 'none': return `Checked ${at}: the hub has no signed Outpost release for ${v.platform}.`;
    case 'current': return `Checked ${at}: Outpost ${v.current} is the newest signed release for ${v.platform}.`;
    case 'available': return `Checked ${at}: Outpost ${c.version} is available.`;
    // once installed (or dropped) the staged release is gone, and so is the news
    case 'staged': return v.staged ? `Checked ${at}: Outpost ${c.version} (release ${c.release}) was downloaded, verified and staged.` : null;
  }
}

/** An error's title says what kind of failure it is: a refusal (signature, hash, rollback) versus not reaching the hub. */
function errorTitle(e: ApiError): string {
  if (e.code === 'package') return 'Update refused';
  if (e.code === 'input') return 'Hub unreachable';
  if (e.code === 'usage') return 'Cannot check for updates';
  return 'Update check failed';
}

export function AppUpdates() {
  const client = useClient();
  const { data, error, reload } = useCall('appUpdate.status', {});
  const [view, setView] = useState<AppUpdateView | undefined>();
  const [busy, setBusy] = useState<'check' | 'schedule' | undefined>();
  const [err, setErr] = useState<ApiError | undefined>();
  const v = view ?? data;
  const run = (what: 'check' | 'schedule', p: Promise<AppUpdateView>) => {
    setBusy(what);
    setErr(undefined);
    p.then(setView, (e: unknown) => { setErr(asApiError(e)); setView(undefined); reload(); }).finally(() => setBusy(undefined));
  };
  const check = () => run('check', client.call('appUpdate.check', {}));
  const schedule = (enabled: boolean) => run('schedule', client.call('appUpdate.installOnRestart', { enabled }));
  const s = v?.staged;
  return (
    <Section title="Updates" id="set-updates" actions={<button type="button" className="btn" onClick={check} disabled={!v || busy !== undefined} data-testid="update-check">{busy === 'check' ? 'Checking…' : 'Check now'}</button>}>
      <ErrorBox error={error} />
      {v && (
        <dl className="kv" data-testid="update-status">
          <dt>Running</dt><dd data-testid="update-current">Outpost {v.current} ({v.platform})</dd>
          <dt>Updates from</dt><dd>{v.hub ? <span className="mono">{v.hub}</span> : <span className="muted">no hub: connect one under "Hub and sync" to receive signed releases</span>}</dd>
          {v.lastInstall && <><dt>Last installed</dt><dd data-testid="update-last">Outpost {v.lastInstall.version} (from {v.lastInstall.from}) {when(v.lastInstall.at)}{v.lastInstall.backup ? <> — the previous version is kept at <span className="mono">{v.lastInstall.backup}</span></> : null}</dd></>}
        </dl>
      )}
      {v?.lastFailure && <div className="alert alert-error" role="alert" data-testid="update-failed"><strong>Installing Outpost {v.lastFailure.version} failed {when(v.lastFailure.at)}</strong><p>{v.lastFailure.message}</p></div>}
      {v && checkLine(v) && <p data-testid="update-checked">{checkLine(v)}</p>}
      <ErrorBox error={err} title={err ? errorTitle(err) : undefined} />
      {v?.stagedError && <div className="alert alert-error" role="alert" data-testid="update-staged-error"><strong>The staged update cannot be used</strong><p>{v.stagedError}</p></div>}
      {s && (
        <div className={`alert ${s.verified ? 'alert-info' : 'alert-error'}`} data-testid="update-staged" role={s.verified ? undefined : 'alert'}>
          <strong>{s.verified ? `Outpost ${s.version} is ready to install` : `The staged Outpost ${s.version} is refused`}</strong>
          <dl className="kv">
            <dt>Release</dt><dd>{s.release} from <span className="mono">{s.hub}</span>, staged {when(s.stagedAt)}</dd>
            <dt>Installer</dt><dd><span className="mono">{s.file}</span> ({bytes(s.length)})</dd>
            <dt>Signed SHA-256</dt><dd><span className="mono small" data-testid="update-sha256">{s.sha256}</span> {s.verified ? <span className="ok" data-testid="update-verified">✓ the staged file matches (checked now)</span> : <span className="error-text">✗ does not match</span>}</dd>
            {s.problem && <><dt>Problem</dt><dd className="error-text" data-testid="update-problem">{s.problem}. Check now downloads it again.</dd></>}
            <dt>Installing</dt><dd data-testid="update-plan">{s.plan.kind === 'appimage' ? 'AppImage: ' : s.plan.kind === 'deb' ? 'Debian package: ' : 'By hand: '}{s.plan.summary}</dd>
          </dl>
          {s.verified && s.plan.kind !== 'manual' && (
            <div className="actions">
              {s.installOnRestart
                ? <><span className="ok" data-testid="update-scheduled">Will be installed when Outpost restarts (the hash is checked again first).</span>
                  <button type="button" className="btn" onClick={() => schedule(false)} disabled={busy !== undefined} data-testid="update-unschedule">Don’t install</button></>
                : <button type="button" className="btn btn-primary" onClick={() => schedule(true)} disabled={busy !== undefined} data-testid="update-schedule">{busy === 'schedule' ? 'Checking the file…' : 'Install on restart'}</button>}
            </div>
          )}
        </div>
      )}
      <p className="muted small">Outpost releases are signed by your hub’s app publisher and checked like a model pull (TUF metadata, signed length and SHA-256); a release older than this one is refused. Nothing is downloaded until you check.</p>
    </Section>
  );
}
