// Models screen: pull a signed version from the connected hub (`models.pull`), with the stages the
// CLI shows (metadata, download per file, model-file safety, card, smoke inference, install), a
// cancel button, and the refusal — naming its stage — when a check fails.
import { useState } from 'react';
import type { PullProgress, PullResult } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { bytes, when } from '../format.ts';
import { asApiError, href, useCall, useClient, useEvents } from '../state.tsx';
import { ErrorBox } from './common.tsx';

const STAGES: { stage: string; label: string }[] = [
  { stage: 'metadata', label: 'Signed metadata' },
  { stage: 'download', label: 'Download' },
  { stage: 'model-safety', label: 'Model-file safety' },
  { stage: 'card', label: 'Card and graph' },
  { stage: 'smoke', label: 'Smoke inference' },
  { stage: 'install', label: 'Install' },
];

export function PullFromHub({ onPulled }: { onPulled: (name: string) => void }) {
  const client = useClient();
  const sync = useCall('sync.status', {});
  const [ref, setRef] = useState('');
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<PullProgress | undefined>();
  const [result, setResult] = useState<PullResult | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  useEvents((e) => { if (e.type === 'pull-progress' && busy) setProgress(e.progress); });

  const hub = sync.data?.hub;
  // Until the connection is known the form stays out: a Pull pressed now could not say where from.
  if (!sync.data && !sync.error) {
    return (
      <div className="card pull-form" data-testid="pull-form" aria-busy="true">
        <h2>Pull from the hub</h2>
        <p className="muted">Checking the hub connection…</p>
      </div>
    );
  }
  if (sync.data && !hub) {
    return (
      <div className="card pull-form" data-testid="pull-form">
        <h2>Pull from a hub</h2>
        <p className="muted" data-testid="pull-not-connected">This workstation is not connected to a hub. <a href={href('settings')}>Connect it in Settings</a> to pull signed models.</p>
      </div>
    );
  }
  const reached = progress ? STAGES.findIndex((s) => s.stage === progress.stage) : -1;
  const download = progress?.stage === 'download' && progress.total ? progress : undefined;
  return (
    <form className="card pull-form" data-testid="pull-form" onSubmit={(e) => {
      e.preventDefault();
      setBusy(true);
      setError(undefined);
      setResult(undefined);
      setProgress(undefined);
      client.call('models.pull', { ref: ref.trim() }).then((r) => { setResult(r); setRef(''); onPulled(r.name); }, (x: unknown) => setError(asApiError(x))).finally(() => setBusy(false));
    }}>
      <h2>Pull from the hub</h2>
      {hub && <p className="muted small">From <span className="mono">{hub.url}</span>; verified like <span className="mono">outpost pull</span>: signatures, hashes, model-file safety, card, smoke inference.</p>}
      <label>Model <input type="text" value={ref} onChange={(e) => setRef(e.target.value)} placeholder="churn, churn@3 or churn:production" spellCheck={false} required disabled={busy} data-testid="pull-ref" /></label>
      {busy && (
        <div data-testid="pull-progress" aria-live="polite">
          <ol className="pull-stages">
            {STAGES.map((s, i) => (
              <li key={s.stage} className={i < reached ? 'done' : i === reached ? 'current' : ''}>{s.label}{i === reached && download ? ` ${download.file ?? ''}` : ''}</li>
            ))}
          </ol>
          {download && <p><progress max={download.total} value={download.received ?? 0} aria-label="Download progress" /> {bytes(download.received ?? 0)} of {bytes(download.total ?? 0)}</p>}
        </div>
      )}
      <ErrorBox error={error} title={error?.code === 'cancelled' ? 'Pull cancelled' : error?.code === 'package' ? 'Pull refused' : 'Pull failed'} />
      {result && (
        <div className="alert alert-ok" role="status" data-testid="pull-result">
          <strong>{result.alreadyInstalled ? `${result.name}@${result.version} is already installed (files re-verified)` : `Installed ${result.name}@${result.version}`}</strong>
          <p>Signed by {result.signedBy}{result.signedAt ? ` at ${when(result.signedAt)}` : ''}. {result.active ? `Active${result.previousActive !== null && result.previousActive !== result.version ? ` (was v${result.previousActive}, kept as last-known-good)` : ''}.` : `Not active (active: v${result.previousActive ?? '—'}).`}</p>
        </div>
      )}
      <div className="pull-actions">
        <button type="submit" className="btn btn-primary" disabled={!ref.trim() || busy} data-testid="pull-start">{busy ? 'Pulling…' : 'Pull'}</button>
        {busy && <button type="button" className="btn" onClick={() => { void client.call('models.pullCancel', {}); }} data-testid="pull-cancel">Cancel</button>}
      </div>
    </form>
  );
}
