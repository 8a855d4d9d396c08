// The hub connection and sync status (Home), and connecting with a one-time code (Settings).
import { useState } from 'react';
import type { SyncView } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { bytes, int, when } from '../format.ts';
import { asApiError, useCall, useClient, useEvents } from '../state.tsx';
import { ErrorBox, Section } from './common.tsx';

function Waiting({ v }: { v: SyncView }) {
  if (v.waiting.items === 0) return <span>nothing waiting</span>;
  return <span>{int(v.waiting.items)} items waiting ({bytes(v.waiting.bytes)}{v.waiting.rows ? `, ${int(v.waiting.rows)} rows` : ''}) since {when(v.waiting.oldest)}</span>;
}

/** Home: where this workstation reports to, and how the last sync went. */
export function SyncStatusCard() {
  const client = useClient();
  const { data, error, reload } = useCall('sync.status', {});
  const [busy, setBusy] = useState(false);
  useEvents((e) => { if (e.type === 'sync-finished') reload(); });
  const now = () => { setBusy(true); client.call('sync.now', {}).finally(() => { setBusy(false); reload(); }); };
  return (
    // no action until the connection is known: "Connect" on a connected workstation would mislead
    <Section title="Hub" id="home-hub" actions={!data ? undefined : data.connected ? <button type="button" className="btn" onClick={now} disabled={busy || data.running} data-testid="sync-now">{busy || data.running ? 'Syncing…' : 'Sync now'}</button> : <a className="btn" href="#/settings">Connect</a>}>
      <ErrorBox error={error} />
      {!data && !error && <p className="muted" aria-busy="true">Checking the hub connection…</p>}
      {data && !data.connected && <p className="muted" data-testid="hub-status">Not connected to a hub: predictions, drift and alerts stay on this workstation. Connect in Settings with the code from your hub operator.</p>}
      {data?.connected && data.hub && (
        <dl className="facts" data-testid="hub-status">
          <dt>Hub</dt><dd><span className="mono">{data.hub.url}</span> as <strong>{data.hub.name}</strong>{data.hub.group ? ` (group ${data.hub.group})` : ''}</dd>
          <dt>Outbox</dt><dd data-testid="sync-waiting"><Waiting v={data} /></dd>
          <dt>Last sync</dt><dd data-testid="sync-last">{data.lastSuccessAt ? `${when(data.lastSuccessAt)} (${int(data.lastSent)} item${data.lastSent === 1 ? '' : 's'} sent)` : 'never'}</dd>
          {data.lastError && <><dt>Last error</dt><dd className="error-text" data-testid="sync-error">{when(data.lastError.at)}: {data.lastError.message}</dd></>}
          <dt>Next</dt><dd>{data.nextAt ? `automatically at ${when(data.nextAt)} (every ${data.intervalSeconds} s)` : 'background sync is off (Settings)'}</dd>
          {data.problems.length > 0 && <><dt>Kept back</dt><dd>{data.problems.length} items the hub did not take: {data.problems[0].error}</dd></>}
        </dl>
      )}
    </Section>
  );
}

/**
 * Home: model versions the hub rolled out to this workstation. Under the `ask` policy an offer waits
 * here with an Install button (the same verified pull as everywhere; a refusal names its stage).
 */
export function UpdatesCard() {
  const client = useClient();
  const { data, reload } = useCall('sync.status', {});
  const [busy, setBusy] = useState<string | undefined>();
  const [err, setErr] = useState<{ rollout: string; error: ApiError } | undefined>();
  useEvents((e) => { if (e.type === 'sync-finished') reload(); });
  if (!data?.connected || !data.updates.length) return null;
  // a refusal shows on its own line (with the stage); the box is for anything else (hub unreachable, …)
  const shownAsFailed = err !== undefined && data.updates.some((u) => u.rollout === err.rollout && u.state === 'failed');
  const offered = data.updates.filter((u) => u.state === 'available');
  // newest first: a refusal that a later install of the same model replaced is history, not news
  const shown = data.updates.filter((u, i) => u.state !== 'failed' || !data.updates.slice(0, i).some((n) => n.model === u.model && n.state === 'installed'));
  const install = (rollout: string) => {
    setBusy(rollout);
    setErr(undefined);
    client.call('sync.installUpdate', { rollout }).then(() => reload(), (e: unknown) => { setErr({ rollout, error: asApiError(e) }); reload(); }).finally(() => setBusy(undefined));
  };
  return (
    <Section title={offered.length ? `Update available (${offered.length})` : 'Rollouts from the hub'} id="home-updates">
      {!shownAsFailed && <ErrorBox error={err?.error} title="Not installed" />}
      <ul className="updates" data-testid="updates">
        {shown.slice(0, 6).map((u) => (
          <li key={`${u.rollout}-${u.updatedAt}`} data-testid={`update-${u.rollout}`} data-state={u.state}>
            {u.state === 'available' && <>
              <strong>{u.ref}</strong>{u.action === 'activate' ? ' (back to an earlier version)' : ''} — the hub operator rolled it out to this workstation{u.previousVersion !== null ? ` (now running ${u.model}@${u.previousVersion})` : ''}.{' '}
              <button type="button" className="btn btn-primary" onClick={() => install(u.rollout)} disabled={busy !== undefined} data-testid="update-install">{busy === u.rollout ? 'Installing…' : 'Install'}</button>
            </>}
            {u.state === 'installed' && <span>{u.model}@{u.version} installed and active{u.previousVersion !== null ? ` (was ${u.previousVersion})` : ''} · {when(u.updatedAt)}</span>}
            {u.state === 'failed' && <span className="error-text" role="alert"><strong>{u.ref} not installed (refused at {u.stage})</strong> — {u.reason}</span>}
            {u.state === 'pending' && <span className="muted">{u.ref}: waiting for the next sync</span>}
          </li>
        ))}
      </ul>
      {data.rolloutPolicy === 'ask' && <p className="muted small">Updates install only when you click Install (Settings: rollouts from the hub).</p>}
    </Section>
  );
}

/** Settings: connect with a one-time code, or show the connection. */
export function ConnectHub() {
  const client = useClient();
  const { data, reload } = useCall('sync.status', {});
  const [hubUrl, setHubUrl] = useState('');
  const [code, setCode] = useState('');
  const [rootPath, setRootPath] = useState('');
  const [caPath, setCaPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | undefined>();
  if (!data) return null;
  if (data.connected && data.hub) {
    return <p data-testid="hub-connected">Connected to <span className="mono">{data.hub.url}</span> as <strong>{data.hub.name}</strong>{data.hub.group ? ` (group ${data.hub.group})` : ''} since {when(data.hub.connectedAt)}.</p>;
  }
  const submit = () => {
    setBusy(true);
    setErr(undefined);
    client.call('sync.connect', { hubUrl, code, ...(rootPath ? { rootPath } : {}), ...(caPath ? { caPath } : {}) }).then(() => reload(), (e: unknown) => setErr(asApiError(e))).finally(() => setBusy(false));
  };
  return (
    <div className="connect" data-testid="connect-form">
      <p className="muted small">Ask your hub operator for an enrollment code (<code>outpost hub devices add</code>). It works once and expires.</p>
      <label>Hub URL <input type="url" value={hubUrl} onChange={(e) => setHubUrl(e.target.value)} placeholder="https://hub.example:8440" data-testid="hub-url" /></label>
      <label>Enrollment code <input value={code} onChange={(e) => setCode(e.target.value)} placeholder="ABCD-EFGH-JKMN-PQRS" data-testid="hub-code" /></label>
      <label>Hub root of trust (root.json path; not needed if this workstation already pulled from the hub) <input value={rootPath} onChange={(e) => setRootPath(e.target.value)} data-testid="hub-root" /></label>
      {hubUrl.startsWith('https:') && <label>Hub CA certificate (PEM path; only when the hub's certificate is not from a CA this machine trusts) <input value={caPath} onChange={(e) => setCaPath(e.target.value)} data-testid="hub-ca" /></label>}
      <ErrorBox error={err} title="Could not connect" />
      <button type="button" className="btn btn-primary" onClick={submit} disabled={busy || !hubUrl || !code} data-testid="hub-connect">{busy ? 'Connecting…' : 'Connect'}</button>
    </div>
  );
}
