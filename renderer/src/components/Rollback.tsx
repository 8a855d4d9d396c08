// Rolling a model back changes what every new job uses: it asks first, naming both versions, and
// tells the core which version it confirmed rolling back from (refused if that changed meanwhile).
import { useState } from 'react';
import type { ModelDetail } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { asApiError, useClient } from '../state.tsx';

export function RollbackControl({ model, onDone, onError }: { model: ModelDetail; onDone: () => void; onError: (e: ApiError) => void }) {
  const client = useClient();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const r = model.rollback;
  if (!r) return null;
  if (!asking) {
    return <button type="button" className="btn" onClick={() => setAsking(true)}>Roll back to version {r.to}…</button>;
  }
  const confirm = () => {
    setBusy(true);
    client.call('models.rollback', { name: model.name, from: r.from }).then(
      () => { setAsking(false); onDone(); },
      (e: unknown) => onError(asApiError(e)),
    ).finally(() => setBusy(false));
  };
  return (
    <div className="alert alert-warning" role="alertdialog" aria-labelledby="rollback-q" aria-describedby="rollback-what" data-testid="rollback-confirm">
      <div>
        <strong id="rollback-q">Roll {model.name} back from version {r.from} to version {r.to}?</strong>
        <p id="rollback-what">New jobs will use version {r.to}. Version {r.from} stays installed; running jobs keep the version they started with. The change is recorded.</p>
      </div>
      <div className="actions">
        <button type="button" className="btn btn-danger" onClick={confirm} disabled={busy}>{busy ? 'Rolling back…' : `Roll back to version ${r.to}`}</button>
        <button type="button" className="btn" onClick={() => setAsking(false)} disabled={busy} autoFocus>Keep version {r.from}</button>
      </div>
    </div>
  );
}
