// Settings → Scoring API tokens: the bearer tokens other programs use with `outpost serve --api`
// (the same tokens as `outpost tokens`). Create shows the secret once — only its hash is kept —
// and revoking asks first, naming the token; both act at once, not on "Save settings".
import { useState } from 'react';
import type { ApiTokenView, NewApiToken } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { when } from '../format.ts';
import { asApiError, useCall, useClient } from '../state.tsx';
import { ErrorBox, Section } from './common.tsx';

export function ApiTokens() {
  const client = useClient();
  const { data, error, reload } = useCall('tokens.list', {});
  const [name, setName] = useState('');
  const [made, setMade] = useState<NewApiToken | undefined>();
  const [copied, setCopied] = useState(false);
  const [asking, setAsking] = useState<ApiTokenView | undefined>();
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<{ title: string; error: ApiError } | undefined>();

  const create = () => {
    setFailed(undefined);
    setBusy(true);
    client.call('tokens.create', { name: name.trim() }).then(
      (t) => { setMade(t); setCopied(false); setName(''); reload(); },
      (e: unknown) => setFailed({ title: 'Could not create the token', error: asApiError(e) }),
    ).finally(() => setBusy(false));
  };
  const revoke = (t: ApiTokenView) => {
    setFailed(undefined);
    setBusy(true);
    client.call('tokens.revoke', { id: t.id }).then(
      () => { setAsking(undefined); if (made?.id === t.id) setMade(undefined); reload(); },
      (e: unknown) => setFailed({ title: `Could not revoke "${t.name}"`, error: asApiError(e) }),
    ).finally(() => setBusy(false));
  };
  const copy = () => {
    if (!made) return;
    navigator.clipboard?.writeText(made.secret).then(() => setCopied(true), () => setCopied(false));
  };
  const live = data?.filter((t) => t.state === 'live').length ?? 0;

  return (
    <Section title="Scoring API tokens" id="set-tokens">
      <p className="muted small">
        Programs on this workstation call the local scoring API (<code>outpost serve --api</code>, under <code>/v1/</code> on the
        same address as this page) with <code>Authorization: Bearer &lt;token&gt;</code>. A token may list the installed
        models and score records with any of them; its predictions are logged as the job <code>records:api:&lt;name&gt;</code>.
        The same tokens as <code>outpost tokens</code>; creating and revoking act at once (no Save needed).
      </p>
      <form className="inline-form" onSubmit={(e) => { e.preventDefault(); create(); }} aria-label="Create a token">
        <label>Name (what it is for: letters, digits, . _ -)
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="my-script" maxLength={64} required data-testid="token-name" />
        </label>
        <button type="submit" className="btn btn-primary" disabled={busy || name.trim() === ''}>Create token</button>
      </form>
      {made && (
        <div className="alert alert-ok" role="status" data-testid="token-secret-box">
          <strong>Token “{made.name}” ({made.id}) — shown only this once</strong>
          <p>Copy it now and keep it somewhere safe: Outpost stores only its hash and cannot show it again.
            Scope: the scoring API — list the installed models, score records with any of them.</p>
          <div className="inline-form">
            <label>Token
              <input readOnly value={made.secret} className="mono" onFocus={(e) => e.target.select()} data-testid="token-secret" aria-label={`Secret of token ${made.name}`} />
            </label>
            <button type="button" className="btn" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
            <button type="button" className="btn" onClick={() => setMade(undefined)}>Done</button>
          </div>
        </div>
      )}
      {failed && <ErrorBox error={failed.error} title={failed.title} />}
      <ErrorBox error={error} title="Could not list the tokens" />
      {asking && (
        <div className="alert alert-warning" role="alertdialog" aria-labelledby="revoke-q" aria-describedby="revoke-what" data-testid="revoke-confirm">
          <div>
            <strong id="revoke-q">Revoke token “{asking.name}” ({asking.id})?</strong>
            <p id="revoke-what">Programs using it are refused (401) from their next request on, by every running server. This cannot be undone; create a new token instead.</p>
          </div>
          <div className="actions">
            <button type="button" className="btn btn-danger" onClick={() => revoke(asking)} disabled={busy}>{busy ? 'Revoking…' : `Revoke “${asking.name}”`}</button>
            <button type="button" className="btn" onClick={() => setAsking(undefined)} disabled={busy} autoFocus>Keep it</button>
          </div>
        </div>
      )}
      {data && data.length === 0 && <p className="muted" data-testid="tokens-empty">No tokens yet.</p>}
      {data && data.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Scoring API tokens" data-testid="tokens-table">
            <caption className="muted small" style={{ textAlign: 'left', captionSide: 'bottom', paddingTop: '0.4rem' }}>{live} live, {data.length - live} revoked; the secrets are never shown again.</caption>
            <thead><tr><th>Name</th><th>Id</th><th>State</th><th>Created</th><th>Last used</th><th>Action</th></tr></thead>
            <tbody>
              {data.map((t) => (
                <tr key={t.id} data-testid={`token-${t.id}`}>
                  <td>{t.name}</td>
                  <td className="mono">{t.id}</td>
                  <td><span className={`badge ${t.state === 'live' ? 'badge-completed' : 'badge-cancelled'}`}>{t.state}</span>{t.revokedAt && <span className="muted small"> {when(t.revokedAt)}</span>}</td>
                  <td>{when(t.createdAt)}</td>
                  <td>{t.lastUsedAt ? when(t.lastUsedAt) : 'never'}</td>
                  <td>{t.state === 'live' && <button type="button" className="btn btn-small" onClick={() => { setFailed(undefined); setAsking(t); }} disabled={busy} aria-label={`Revoke ${t.name}`}>Revoke…</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
