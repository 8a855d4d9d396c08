// Rollouts: start, halt and roll back staged rollouts over the admin API (`/api/v1/rollouts`, the
// same functions as `outpost hub rollout …`), and follow their progress per device. The form's text
// is read by the CLI's own checks (src/hub/common/rollout-input.ts); the rest (percent range, group
// spelling, whether the alias or version is published, superseded rollouts) is answered by the hub,
// and every refusal is shown with the hub's message. Halt and rollback ask first.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { OutpostError } from '../../../../src/common/errors.ts';
import { groupFromText, percentFromText, versionFromText } from '../../../../src/hub/common/rollout-input.ts';
import type { FleetFacets } from '../../../../src/hub/common/fleet-health.ts';
import { ApiError } from '../../client/error.ts';
import { ErrorBox, Section } from '../../components/common.tsx';
import { int, when } from '../../format.ts';
import { href } from '../../state.tsx';
import { hubPost, useGet } from '../api.ts';

interface Counts { groupDevices: number; devices: number; running: number; failed: number; available: number; pending: number; stopped: number; unaffected: number }
interface Rollout {
  id: string; model: string; alias: string; group: string; percent: number; seed: string; state: string; generation: number;
  targetVersion: number | null; versionAtCreate: number | null; rollbackTo: number | null; createdAt: string; updatedAt: string;
  history: { at: string; action: string; detail: string }[]; counts: Counts;
}
interface DeviceRow { device: string; group: string; state: string; stage: string | null; reason: string | null; reportedVersion: number | null; activeVersion: number | null; reportedAt: string | null; lastSeenAt: string | null }
interface CatalogModel { name: string; versions: { version: number; yanked: boolean }[]; aliases: Record<string, number> }

type Notice = { ok: string; warn?: string } | { error: ApiError; title: string };
type Ask = { action: 'halt' | 'rollback'; rollout: Rollout };

/** A refusal as the console shows it: the CLI's usage errors keep their code and message. */
const asError = (e: unknown): ApiError => (e instanceof ApiError ? e
  : e instanceof OutpostError ? new ApiError({ code: e.code === 'usage' ? 'usage' : 'internal', message: e.message })
  : new ApiError({ code: 'internal', message: String(e) }));

/** What a rollout moves devices to, in words (the CLI's status line). */
/** "2026-12-03 23:06:13" as the date over the time: the table fits a 1280 px window with all three actions shown. */
const twoLines = (t: string) => { const [d, ...rest] = t.split(' '); return <><span className="nowrap">{d}</span> <span className="nowrap">{rest.join(' ')}</span></>; };

function target(r: Rollout): string {
  if (r.state === 'rolled-back') return r.rollbackTo !== null ? `back to ${r.model}@${r.rollbackTo}` : 'back to each device\'s previous version';
  if (r.state === 'superseded') return `${r.model}:${r.alias} (was → v${r.versionAtCreate ?? '?'})`;
  return `${r.model}:${r.alias} → ${r.targetVersion === null ? '(alias gone)' : `v${r.targetVersion}`}`;
}
/** How often the list refreshes itself while a rollout is active or rolled back. */
export const AUTO_REFRESH_MS = 10_000;
const live = (r: Rollout) => r.state !== 'superseded';
const STATE_BADGE: Record<string, string> = { active: 'badge-running', halted: 'badge-cancelled', 'rolled-back': 'badge-skipped', superseded: '' };
const DEVICE_BADGE: Record<string, string> = { running: 'badge-completed', failed: 'badge-failed', stopped: 'badge-cancelled' };
/** A device's state in words (the hub's rolloutStatus decides it; `hub rollout status` shows the same words). */
const DEVICE_STATE_TITLE: Record<string, string> = {
  running: 'runs the version this rollout moves it to',
  failed: 'its pull refused; it keeps what it ran',
  available: 'offered, waiting for the workstation\'s user',
  pending: 'assigned; moves on its next sync',
  stopped: 'the rollout was halted or superseded before it moved this device: it stays on what it runs',
  unaffected: 'nothing to roll back on this device',
};

function Status({ id, tick }: { id: string; tick: number }) {
  const { data, error, reload } = useGet<{ rollout: Rollout; devices: DeviceRow[] }>(`/api/v1/rollouts/${encodeURIComponent(id)}`);
  const shown = useRef(tick); // reload when the list is refreshed, not when first opened
  useEffect(() => { if (tick !== shown.current) { shown.current = tick; reload(); } }, [tick, reload]);
  return (
    <div data-testid="rollout-status">
      <h3 className="small">Rollout <span className="mono">{id}</span>: devices</h3>
      <ErrorBox error={error} title="Cannot read the rollout" />
      {data && data.devices.length === 0 && <p className="muted" data-testid="rollout-no-devices">No workstation is in group "{data.rollout.group}" yet; devices enrolled into it later follow the rollout.</p>}
      {data && data.devices.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="rollout-devices">
            <thead><tr><th scope="col">Device</th><th scope="col">Group</th><th scope="col">State</th><th scope="col">Reported version</th><th scope="col">Active version</th><th scope="col">Refused at</th><th scope="col">Reported</th><th scope="col">Last seen</th></tr></thead>
            <tbody>{data.devices.map((d) => (
              <tr key={d.device} data-testid="rollout-device" data-device={d.device} data-state={d.state}>
                <td><a href={href('device', d.device)}>{d.device}</a></td><td>{d.group || '—'}</td>
                <td><span className={`badge ${DEVICE_BADGE[d.state] ?? ''}`} title={DEVICE_STATE_TITLE[d.state]}>{d.state}</span></td>
                <td>{d.reportedVersion ?? '—'}</td><td data-testid="active-version">{d.activeVersion ?? '—'}</td>
                <td>{d.stage ? <><strong>{d.stage}</strong>: {d.reason ?? ''}</> : '—'}</td><td>{when(d.reportedAt)}</td><td>{when(d.lastSeenAt)}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
      {data && (
        <details className="small" data-testid="rollout-history">
          <summary>History ({data.rollout.history.length})</summary>
          <ul>{data.rollout.history.map((h, i) => <li key={i}>{when(h.at)} — <strong>{h.action}</strong> {h.detail}</li>)}</ul>
        </details>
      )}
    </div>
  );
}

function StartForm({ models, groups, rollouts, prefill, onDone }: { models: CatalogModel[]; groups: FleetFacets['groups']; rollouts: Rollout[]; prefill: Partial<Record<'ref' | 'group' | 'percent' | 'seed', string>>; onDone: (n: Notice, id?: string) => void }) {
  const refs = models.flatMap((m) => Object.entries(m.aliases).sort(([a], [b]) => a.localeCompare(b)).map(([alias, v]) => ({ ref: `${m.name}:${alias}`, version: v })));
  const [ref, setRef] = useState(prefill.ref ?? refs[0]?.ref ?? '');
  const [group, setGroup] = useState(prefill.group ?? '');
  const [percent, setPercent] = useState(prefill.percent ?? '');
  const [seed, setSeed] = useState(prefill.seed ?? '');
  const [allowEmpty, setAllowEmpty] = useState(false);
  const [busy, setBusy] = useState(false);
  const model = ref.split(':')[0];
  const replaces = rollouts.filter((r) => live(r) && r.model === model && r.group === group);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    let body: { ref: string; group: string; percent?: number; seed?: string; allowEmptyGroup?: boolean };
    try {
      const p = percentFromText(percent.trim() === '' ? undefined : percent);
      body = { ref, group: groupFromText(group.trim()), ...(p !== undefined ? { percent: p } : {}), ...(seed !== '' ? { seed } : {}), ...(allowEmpty ? { allowEmptyGroup: true } : {}) };
    } catch (err) {
      onDone({ error: asError(err), title: 'Not started' });
      return;
    }
    setBusy(true);
    hubPost<{ rollout: Rollout }>('/api/v1/rollouts', body).then(
      ({ rollout: r }) => onDone({
        ok: `Started ${r.id}: ${target(r)} to group ${r.group}${r.percent < 100 ? ` (${r.percent} %)` : ''}, ${int(r.counts.devices)} device${r.counts.devices === 1 ? '' : 's'}. Workstations pull and verify it on their next sync (policy auto) or offer it to their user (policy ask).`,
        ...(r.counts.groupDevices === 0 ? { warn: `No workstation is in group "${r.group}" yet: devices enrolled into it later follow the rollout.` } : {}),
      }, r.id),
      (err: unknown) => onDone({ error: asError(err), title: 'Not started' }),
    ).finally(() => setBusy(false));
  };
  if (!refs.length) {
    return <p className="muted" data-testid="rollout-no-aliases">No model on this hub has an alias yet. A rollout follows a signed alias: publish with <code>outpost hub publish … --alias production</code> first.</p>;
  }
  return (
    <form className="rollout-form" onSubmit={submit} data-testid="rollout-form" aria-label="Start a rollout">
      <label>Model and alias
        <select data-testid="rollout-ref" value={ref} onChange={(e) => setRef(e.target.value)}>
          {refs.map((r) => <option key={r.ref} value={r.ref}>{r.ref} (→ v{r.version})</option>)}
          {prefill.ref && !refs.some((r) => r.ref === prefill.ref) && <option value={prefill.ref}>{prefill.ref}</option>}
        </select>
      </label>
      <label>Group
        <input type="text" data-testid="rollout-group" list="rollout-groups" value={group} onChange={(e) => setGroup(e.target.value)} placeholder="e.g. line-1" autoComplete="off" spellCheck={false} />
        <datalist id="rollout-groups">{groups.filter((g) => g.group).map((g) => <option key={g.group} value={g.group}>{`${g.devices} device${g.devices === 1 ? '' : 's'}`}</option>)}</datalist>
      </label>
      <label>Percent of the group
        <input type="text" inputMode="decimal" data-testid="rollout-percent" value={percent} onChange={(e) => setPercent(e.target.value)} placeholder="100" size={8} autoComplete="off" />
      </label>
      <label><span>Seed <span className="muted small">(optional)</span></span>
        <input type="text" data-testid="rollout-seed" value={seed} onChange={(e) => setSeed(e.target.value)} placeholder={`${model || 'model'}/${group || 'group'}`} autoComplete="off" spellCheck={false} />
      </label>
      <label className="check small"><input type="checkbox" data-testid="rollout-allow-empty" checked={allowEmpty} onChange={(e) => setAllowEmpty(e.target.checked)} />
        Start it even if no workstation is in the group yet (staged for workstations that enroll into it later)</label>
      <div className="rollout-form-foot">
        <p className="muted small">
          A percentage takes a stable share of the group, chosen by the seed: a larger percentage with the same seed keeps the devices a smaller one chose.
          {replaces.length > 0 && <> <strong data-testid="rollout-replaces">Replaces {replaces.map((r) => `${r.id} (${r.state})`).join(', ')}</strong>: one desired state per model and group.</>}
        </p>
        <button type="submit" className="btn btn-primary" data-testid="rollout-start" disabled={busy || !ref}>{busy ? 'Starting…' : 'Start rollout'}</button>
      </div>
    </form>
  );
}

function Confirm({ ask, versions, onCancel, onDone }: { ask: Ask; versions: CatalogModel['versions'] | null; onCancel: () => void; onDone: (n: Notice) => void }) {
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const r = ask.rollout;
  const go = () => {
    let body: { to?: number } = {};
    try {
      if (ask.action === 'rollback') { const v = versionFromText(to === '' ? undefined : to); if (v !== undefined) body = { to: v }; }
    } catch (err) {
      onDone({ error: asError(err), title: `Not rolled back: ${r.id}` });
      return;
    }
    setBusy(true);
    hubPost<{ rollout: Rollout }>(`/api/v1/rollouts/${encodeURIComponent(r.id)}/${ask.action}`, body).then(
      ({ rollout: x }) => onDone({ ok: ask.action === 'halt' ? `Halted ${x.id}: workstations that have not installed it will not; those that did keep it.` : `Rolled back ${x.id}: ${target(x)}; workstations follow on their next sync.` }),
      (err: unknown) => onDone({ error: asError(err), title: ask.action === 'halt' ? `Not halted: ${r.id}` : `Not rolled back: ${r.id}` }),
    ).finally(() => setBusy(false));
  };
  const c = r.counts;
  return (
    <div className="alert alert-warning rollout-confirm" role="alertdialog" aria-labelledby="rollout-q" aria-describedby="rollout-what" data-testid="rollout-confirm" data-action={ask.action}>
      <div>
        <strong id="rollout-q">{ask.action === 'halt' ? `Halt rollout ${r.id}?` : `Roll back rollout ${r.id}?`}</strong>
        <p id="rollout-what">
          {r.model}:{r.alias} to group {r.group}{r.percent < 100 ? ` (${r.percent} %)` : ''}: {int(c.running)} of {int(c.devices)} device{c.devices === 1 ? '' : 's'} run it, {int(c.pending)} pending, {int(c.failed)} failed{c.stopped ? `, ${int(c.stopped)} stopped` : ''}.{' '}
          {ask.action === 'halt'
            ? 'Workstations that have not installed it will not; those that did keep it.'
            : 'Each workstation that installed it returns to the version it ran before on its next sync, or all go to the version you choose (verified like any pull).'}
        </p>
        {ask.action === 'rollback' && versions === null && <p className="muted small" aria-busy="true" data-testid="rollout-to-loading">Reading the published versions…</p>}
        {ask.action === 'rollback' && versions !== null && (
          <label className="rollout-to">Go back to
            <select data-testid="rollout-to" value={to} onChange={(e) => setTo(e.target.value)} disabled={busy}>
              <option value="">the version each device ran before</option>
              {/* a yanked version is shown but cannot be chosen: every device would refuse it at verify (the hub refuses it too) */}
              {versions.map((v) => <option key={v.version} value={String(v.version)} disabled={v.yanked}>{r.model}@{v.version}{v.yanked ? ' (yanked)' : ''}</option>)}
            </select>
          </label>
        )}
      </div>
      <div className="actions">
        <button type="button" className="btn btn-danger" data-testid="rollout-confirm-yes" onClick={go} disabled={busy}>
          {busy ? (ask.action === 'halt' ? 'Halting…' : 'Rolling back…') : ask.action === 'halt' ? 'Halt rollout' : 'Roll back'}
        </button>
        <button type="button" className="btn" data-testid="rollout-confirm-no" onClick={onCancel} disabled={busy} autoFocus>{ask.action === 'halt' ? 'Keep it going' : 'Keep it'}</button>
      </div>
    </div>
  );
}

export function Rollouts() {
  const [tick, setTick] = useState(0);
  const list = useGet<{ rollouts: Rollout[] }>('/api/v1/rollouts');
  const models = useGet<{ models: CatalogModel[] }>('/api/v1/models');
  const fleet = useGet<{ facets: FleetFacets }>('/api/v1/devices');
  const [open, setOpen] = useState<string | undefined>();
  const [ask, setAsk] = useState<Ask | undefined>();
  const [notice, setNotice] = useState<Notice | undefined>();
  const [prefill, setPrefill] = useState<{ key: number; values: Partial<Record<'ref' | 'group' | 'percent' | 'seed', string>> }>({ key: 0, values: {} });
  const refresh = () => { list.reload(); setTick((t) => t + 1); };
  // after a dialog's action the dialog (which had focus) is gone: focus moves to what happened
  const noticeRef = useRef<HTMLDivElement>(null);
  const [focusNotice, setFocusNotice] = useState(0);
  useEffect(() => { if (focusNotice) noticeRef.current?.focus(); }, [focusNotice]);
  const done = (n: Notice, id?: string, fromForm = false) => {
    setNotice(n);
    if (fromForm && !('ok' in n)) return; // the form keeps what was typed, to be corrected
    // an action done or refused: the dialog closes and the list shows each rollout's state now
    setAsk(undefined);
    if (!fromForm) setFocusNotice((f) => f + 1);
    if (id) setOpen(id);
    if (fromForm) setPrefill((p) => ({ key: p.key + 1, values: {} }));
    refresh();
  };
  const opener = useRef<HTMLElement | null>(null); // the button that opened the dialog: focus goes back there on cancel
  // the dialog reads the rollouts and the published versions again (a version may have been published or yanked since)
  const asking = (action: Ask['action'], r: Rollout, e: { currentTarget: HTMLElement }) => { opener.current = e.currentTarget; setNotice(undefined); setAsk({ action, rollout: r }); refresh(); models.reload(); };
  const cancel = () => { setAsk(undefined); window.setTimeout(() => opener.current?.focus(), 0); };
  const rollouts = list.data?.rollouts ?? [];
  // while a rollout moves devices, its progress refreshes itself (not while a dialog is open or the tab is hidden)
  const moving = rollouts.some((r) => r.state === 'active' || r.state === 'rolled-back');
  useEffect(() => {
    if (!moving || ask) return;
    const timer = window.setInterval(() => { if (!document.hidden) { list.reload(); setTick((t) => t + 1); } }, AUTO_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [moving, ask, list.reload]);
  const versionsOf = (model: string) => [...(models.data?.models.find((m) => m.name === model)?.versions ?? [])].sort((a, b) => b.version - a.version);
  return (
    <div className="screen">
      <h1>Rollouts</h1>
      <p className="muted">A rollout records that the workstations of a group should run what a signed alias points to; they follow on their next sync, through the normal verified pull. The same as <code>outpost hub rollout</code>.</p>
      <ErrorBox error={list.error ?? models.error ?? fleet.error} title="Cannot list rollouts" />
      <Section title="Start a rollout" id="rollout-start-head">
        {/* offered once the aliases and the rollouts it may replace are known ("Replaces …" is read from the list) */}
        {models.data && list.data
          ? <StartForm key={prefill.key} models={models.data.models} groups={fleet.data?.facets.groups ?? []} rollouts={rollouts} prefill={prefill.values} onDone={(n, id) => done(n, id, true)} />
          : !models.error && !list.error && <p className="muted" data-testid="rollout-form-loading" aria-busy="true">Loading the signed aliases and the rollouts they may replace…</p>}
      </Section>
      <div aria-live="polite" data-testid="rollout-notice" ref={noticeRef} tabIndex={-1} className="notice-slot">
        {notice && 'ok' in notice && <div className="alert alert-ok" role="status" data-testid="rollout-ok"><p>{notice.ok}</p>{notice.warn && <p><strong>{notice.warn}</strong></p>}</div>}
        {notice && 'error' in notice && <ErrorBox error={notice.error} title={notice.title} />}
      </div>
      {list.data && rollouts.length === 0 && <p className="muted" data-testid="rollouts-none">No rollouts yet.</p>}
      {list.data && rollouts.length > 0 && (
        <Section title="All rollouts" id="rollouts-head" actions={<>{moving && !ask && <span className="muted small" data-testid="rollouts-auto">updates every {AUTO_REFRESH_MS / 1000} s</span>}<button type="button" className="btn btn-small" data-testid="rollouts-refresh" onClick={refresh} disabled={list.loading}>{list.loading ? 'Refreshing…' : 'Refresh'}</button></>}>
          {ask && <Confirm key={`${ask.action}-${ask.rollout.id}`} ask={{ ...ask, rollout: rollouts.find((r) => r.id === ask.rollout.id) ?? ask.rollout }} versions={models.loading ? null : versionsOf(ask.rollout.model)} onCancel={cancel} onDone={(n) => done(n, ask.rollout.id)} />}
          <div className="table-wrap">
            <table className="table rollouts-table" data-testid="rollouts">
              <thead><tr><th scope="col">Rollout</th><th scope="col">Model</th><th scope="col">Group</th><th scope="col">State</th><th scope="col">Running</th><th scope="col">Failed</th><th scope="col">Available</th><th scope="col">Pending</th><th scope="col">Stopped</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
              <tbody>{rollouts.map((r) => (
                <tr key={r.id} data-testid={`rollout-${r.id}`} data-state={r.state}>
                  <td><button type="button" className="linkish mono nowrap" aria-expanded={open === r.id} onClick={() => setOpen(open === r.id ? undefined : r.id)}>{r.id}</button></td>
                  <td>{target(r)}</td><td>{r.group}{r.percent < 100 ? ` (${r.percent}\u00a0%)` : ''}</td>
                  <td><span className={`badge ${STATE_BADGE[r.state] ?? ''}`} data-testid="state">{r.state}</span></td>
                  <td className="num" data-testid="running">{r.counts.running}</td><td className="num" data-testid="failed">{r.counts.failed}</td>
                  <td className="num" data-testid="available">{r.counts.available}</td><td className="num" data-testid="pending">{r.counts.pending}</td><td className="num" data-testid="stopped">{r.counts.stopped}</td><td>{twoLines(when(r.createdAt))}</td>
                  <td><div className="row-actions">
                    {/* only an active rollout can be halted: the hub refuses to halt a rollback (it would stop devices half way back) */}
                    {r.state === 'active' && <button type="button" className="btn btn-small" data-testid="halt" onClick={(e) => asking('halt', r, e)}>Halt…</button>}
                    {live(r) && <button type="button" className="btn btn-small" data-testid="rollback" onClick={(e) => asking('rollback', r, e)}>Roll back…</button>}
                    {r.state === 'active' && r.percent < 100 && (
                      <button type="button" className="btn btn-small" data-testid="widen" title="Start a rollout of the same alias to the same group and seed with a larger percentage (it replaces this one)"
                        onClick={() => { setNotice(undefined); setPrefill((p) => ({ key: p.key + 1, values: { ref: `${r.model}:${r.alias}`, group: r.group, percent: '', seed: r.seed } })); document.getElementById('rollout-start-head')?.scrollIntoView({ block: 'start' }); }}>Widen…</button>
                    )}
                  </div></td>
                </tr>
              ))}</tbody>
            </table>
          </div>
          {open && <Status key={open} id={open} tick={tick} />}
        </Section>
      )}
    </div>
  );
}
