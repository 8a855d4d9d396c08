// Models: the hub's catalog — each model's versions (publisher, the keys that signed it and when,
// size, task, lineage from its card, yanked), its aliases now and how they moved, and which devices
// run which version (from their last heartbeats).
import { useState } from 'react';
import type { ModelOverview } from '../../../../src/hub/common/fleet-views.ts';
import { ErrorBox, Section } from '../../components/common.tsx';
import { bytes, int, when } from '../../format.ts';
import { href } from '../../state.tsx';
import { useGet } from '../api.ts';

function Lineage({ lineage }: { lineage: Record<string, unknown> | null }) {
  if (!lineage) return <span className="muted">none in the card</span>;
  const parent = lineage.parent as { name?: string; version?: number } | undefined;
  const recipe = lineage.recipe as { algorithm?: string; trainer?: string } | undefined;
  const parts = [
    typeof lineage.trainingRows === 'number' ? `${int(lineage.trainingRows)} training rows` : undefined,
    typeof lineage.trainingDataHash === 'string' ? `data ${lineage.trainingDataHash.replace(/^sha256:/, '').slice(0, 12)}…` : undefined,
    typeof lineage.codeVersion === 'string' ? `trainer ${lineage.codeVersion}` : undefined,
    recipe?.algorithm ? `algorithm ${recipe.algorithm}` : undefined,
    parent?.name ? `retrained from ${parent.name}@${parent.version ?? '?'}` : undefined,
    typeof lineage.createdAt === 'string' ? `made ${when(lineage.createdAt)}` : undefined,
  ].filter(Boolean);
  return <span data-testid="lineage">{parts.length ? parts.join(' · ') : 'recorded (no known fields)'}</span>;
}

function ModelCard({ m }: { m: ModelOverview }) {
  return (
    <Section title={m.name} id={`model-${m.name}`}>
      <div data-testid={`model-${m.name}`}>
        <p className="muted small">
          Aliases: {m.aliases.length ? m.aliases.map((a) => <span key={a.alias} className="badge" data-testid="alias">{a.alias} → v{a.version}</span>) : 'none'}
          {' · '}<a href={href('drift', `${m.name}@${m.latest}`)}>fleet drift</a>
        </p>
        <div className="table-wrap">
          <table className="table" data-testid="model-versions">
            <thead><tr><th scope="col">Version</th><th scope="col">Publisher</th><th scope="col">Signed by (key ids)</th><th scope="col">Signed</th><th scope="col">Size</th><th scope="col">Task</th><th scope="col">Lineage</th><th scope="col">Running on</th></tr></thead>
            <tbody>
              {m.versions.map((v) => (
                <tr key={v.version} data-testid={`version-${v.version}`}>
                  <td>v{v.version}{v.yanked && <> <span className="badge badge-failed">yanked</span></>}</td>
                  <td>{v.publisher}</td>
                  <td className="mono small" title={v.signedBy.join(', ')}>{v.signedBy.map((k) => k.slice(0, 12)).join(', ')}</td>
                  <td>{when(v.signedAt)}</td>
                  <td className="num">{bytes(v.sizeBytes)}</td>
                  <td>{v.task ?? '—'}</td>
                  <td className="small"><Lineage lineage={v.lineage} /></td>
                  <td data-testid="running-on" data-count={v.runningOn.length}>
                    {v.runningOn.length === 0 ? <span className="muted">no device{v.installedOn ? ` (installed on ${v.installedOn})` : ''}</span>
                      : <>{v.runningOn.length} device{v.runningOn.length === 1 ? '' : 's'}: {v.runningOn.slice(0, 8).map((d, i) => <span key={d}>{i > 0 && ', '}<a href={href('device', d)}>{d}</a></span>)}{v.runningOn.length > 8 && ` and ${v.runningOn.length - 8} more`}</>}
                  </td>
                </tr>
              ))}
              {m.unpublishedRunning.map((u) => (
                <tr key={`u${u.version}`} className="muted">
                  <td>v{u.version}</td><td colSpan={6}>not published on this hub (a local or retrained version)</td>
                  <td data-testid="running-on" data-count={u.runningOn.length}>{u.runningOn.length} device{u.runningOn.length === 1 ? '' : 's'}: {u.runningOn.slice(0, 8).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {m.aliasHistory.length > 0 && (
          <details>
            <summary>Alias history ({m.aliasHistory.length})</summary>
            <table className="table" data-testid="alias-history">
              <thead><tr><th scope="col">When</th><th scope="col">Alias</th><th scope="col">Now points to</th><th scope="col">Signed by publisher</th><th scope="col">Metadata version</th></tr></thead>
              <tbody>{m.aliasHistory.map((h) => <tr key={`${h.alias}-${h.metadataVersion}-${h.publisher}`}><td>{when(h.at)}</td><td>{h.alias}</td><td>{h.version === null ? 'removed' : `v${h.version}`}</td><td>{h.publisher}</td><td className="num">{h.metadataVersion}</td></tr>)}</tbody>
            </table>
          </details>
        )}
      </div>
    </Section>
  );
}

export function Models() {
  const { data, error } = useGet<{ models: ModelOverview[] }>('/api/v1/fleet/models');
  const [filter, setFilter] = useState('');
  const shown = data?.models.filter((m) => m.name.includes(filter.trim().toLowerCase())) ?? [];
  return (
    <div className="screen">
      <h1>Models</h1>
      <ErrorBox error={error} title="Cannot read the catalog" />
      {data && data.models.length === 0 && <p className="muted">Nothing is published on this hub yet (`outpost publish`).</p>}
      {data && data.models.length > 3 && <div className="toolbar"><label>Find{' '}<input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} /></label></div>}
      {shown.map((m) => <ModelCard key={m.name} m={m} />)}
    </div>
  );
}
