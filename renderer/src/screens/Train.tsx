// Train a model from a file (the same pipeline as `outpost train`, run in a worker by the core):
// pick the file like Score does, choose target and features from its columns, the algorithm, the
// validation split, the seed and the provider; then watch epochs/iterations and the validation loss,
// cancel (nothing is written), read the validation metrics and the card, and install the model as
// the next local version of its name.
import { useMemo, useState, type DragEvent } from 'react';
import type { FileColumns, TrainParams, TrainRun, TrainRunDetail, UploadResult } from '../../../src/api/common/contract.ts';
import { ApiError } from '../client/error.ts';
import { ErrorBox, Section, Stat, StatusBadge } from '../components/common.tsx';
import { bytes, duration, int, pct } from '../format.ts';
import { asApiError, go, href, useCall, useClient, useEvents } from '../state.tsx';

type Algo = 'logreg' | 'mlp' | 'gbdt' | 'auto';
const ALGOS: [Algo, string][] = [['gbdt', 'Gradient boosting (gbdt)'], ['logreg', 'Logistic / linear regression (logreg)'], ['mlp', 'Neural network (mlp)'], ['auto', 'Try each, keep the best (auto)']];
const PROVIDERS = [['', 'TypeScript trainer (CPU)'], ['auto', 'ONNX Runtime, best provider here (auto)'], ['cpu', 'ONNX Runtime on CPU'], ['cuda', 'CUDA'], ['webgpu', 'WebGPU'], ['dml', 'DirectML'], ['coreml', 'CoreML']] as const;

const f4 = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(4));
/** a model name from a file name: lower-case letters, digits, . _ - */
const nameFrom = (file: string): string => file.replace(/\.[^.]+$/, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64) || 'model';

export function Train({ runId }: { runId?: string }) {
  if (runId) return <TrainRunView id={runId} />;
  return <TrainForm />;
}

function TrainForm() {
  const client = useClient();
  const [file, setFile] = useState<UploadResult | null>(null);
  const [uploading, setUploading] = useState<number | null>(null);
  const [pathText, setPathText] = useState('');
  const [dragging, setDragging] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [starting, setStarting] = useState(false);
  const cols = useCall('files.columns', file ? { path: file.path } : null);
  const info: FileColumns | undefined = cols.data && file && cols.data.path.endsWith(file.name) ? cols.data : undefined;

  const [name, setName] = useState('');
  const [target, setTarget] = useState('');
  const [features, setFeatures] = useState<Set<string>>(new Set());
  const [algo, setAlgo] = useState<Algo>('gbdt');
  const [splitKind, setSplitKind] = useState<'fraction' | 'time'>('fraction');
  const [fraction, setFraction] = useState('0.2');
  const [timeCol, setTimeCol] = useState('');
  const [validFrom, setValidFrom] = useState('');
  const [seed, setSeed] = useState('1');
  const [provider, setProvider] = useState('');
  const runs = useCall('train.list', {});

  // New file: defaults from its columns (target: the last text column, else the last column; a time
  // column, when there is one, splits by time; features: the rest but time columns). Set while
  // rendering (React re-renders before anything is shown), not in an effect: the form must never be
  // on screen with the new file's columns and no choices yet (a click then would train on nothing).
  const [defaultsFor, setDefaultsFor] = useState<FileColumns | undefined>();
  if (info && info !== defaultsFor) {
    setDefaultsFor(info);
    const c = info.columns;
    const t = [...c].reverse().find((x) => x.kind === 'text')?.name ?? c[c.length - 1]?.name ?? '';
    const time = c.find((x) => x.kind === 'time')?.name ?? '';
    setTarget(t);
    setTimeCol(time);
    setSplitKind(time ? 'time' : 'fraction');
    setValidFrom('');
    setFeatures(new Set(c.filter((x) => x.name !== t && x.kind !== 'time').map((x) => x.name)));
    setName((n) => n || nameFrom(info.name));
  }

  const take = (f: File | undefined) => {
    if (!f) return;
    setError(undefined);
    setFile(null);
    setUploading(0);
    client.provideFile(f, (x) => setUploading(x)).then((r) => { setFile(r); setUploading(null); }, (e: unknown) => { setError(asApiError(e)); setUploading(null); });
  };
  const onDrop = (e: DragEvent) => { e.preventDefault(); setDragging(false); take(e.dataTransfer.files[0]); };

  const chosen = info ? info.columns.filter((c) => features.has(c.name) && c.name !== target && !(splitKind === 'time' && c.name === timeCol)).map((c) => c.name) : [];
  const problems: string[] = [];
  if (info) {
    if (!target) problems.push('Choose the column to predict.');
    if (!chosen.length) problems.push('Choose at least one feature.');
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) problems.push('The name takes lower-case letters, digits, ".", "_" or "-" (starting with a letter or digit).');
    if (splitKind === 'fraction' && !(Number(fraction) > 0 && Number(fraction) < 1)) problems.push('The validation fraction is between 0 and 1.');
    if (splitKind === 'time' && (!timeCol || !validFrom.trim())) problems.push('Choose the time column and the first validation time.');
    if (!/^-?\d+$/.test(seed.trim())) problems.push('The seed is an integer.');
  }
  const start = () => {
    if (!file || problems.length) return;
    setStarting(true);
    setError(undefined);
    const params: TrainParams = {
      input: file.path, name, target, features: chosen, algo, seed: Number(seed),
      split: splitKind === 'time' ? { kind: 'time', column: timeCol, validFrom: validFrom.trim() } : { kind: 'fraction', fraction: Number(fraction) },
      ...(provider && algo !== 'gbdt' ? { provider: provider as TrainParams['provider'] } : {}),
    };
    client.call('train.start', params).then((r) => go('train', r.id), (e: unknown) => setError(asApiError(e))).finally(() => setStarting(false));
  };
  const timeChoices = info?.columns.filter((c) => c.kind !== 'text') ?? [];
  const example = info?.columns.find((c) => c.name === timeCol)?.examples[0];

  return (
    <div className="screen">
      <h1>Train a model</h1>
      <p className="muted">The same training as <code>outpost train</code>: the input schema, the drift baseline and the lineage go into the card; preprocessing goes inside the ONNX graph.</p>
      <ErrorBox error={error} />
      <Section title="1. Data" id="train-file">
        <div className={`drop ${dragging ? 'drop-active' : ''}`} onDragOver={(e) => { e.preventDefault(); setDragging(true); }} onDragLeave={() => setDragging(false)} onDrop={onDrop} data-testid="train-dropzone">
          <p>Drop a CSV, JSONL or Parquet file here, or</p>
          <label className="btn btn-primary file-pick">
            Choose a file…
            <input type="file" accept=".csv,.tsv,.txt,.jsonl,.ndjson,.parquet" onChange={(e) => take(e.target.files?.[0])} data-testid="train-file-input" />
          </label>
        </div>
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); if (pathText.trim()) setFile({ path: pathText.trim(), name: pathText.trim().split(/[\\/]/).pop() ?? '', size: 0 }); }}>
          <label>Or a path on the appliance <input type="text" value={pathText} onChange={(e) => setPathText(e.target.value)} placeholder="/data/history.csv" spellCheck={false} data-testid="train-path-input" /></label>
          <button type="submit" className="btn">Use this path</button>
        </form>
        <div className="reserve" aria-live="polite">
          {uploading !== null && <p><progress max={1} value={uploading} aria-label="Upload progress" /> Uploading… {pct(uploading)}</p>}
          {info && <p data-testid="train-chosen-file">Selected: <span className="mono">{info.name}</span> ({info.format}, {bytes(info.sizeBytes)}, {info.columns.length} columns)</p>}
        </div>
        <ErrorBox error={cols.error} title="Cannot read this file" />
      </Section>

      {info && (
        <>
          <Section title="2. Target and features" id="train-columns">
            <div className="options">
              <label>Predict (target)
                <select value={target} onChange={(e) => { const t = e.target.value; setTarget(t); setFeatures((s) => { const n = new Set(s); n.delete(t); return n; }); }} data-testid="train-target">
                  {info.columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
                </select>
              </label>
              <label>Model name <input type="text" value={name} onChange={(e) => setName(e.target.value)} spellCheck={false} data-testid="train-name" /></label>
            </div>
            <div className="table-wrap">
              <table className="table" data-testid="train-features">
                <thead><tr><th scope="col">Feature</th><th scope="col">Column</th><th scope="col">Looks like</th><th scope="col">Distinct</th><th scope="col">Missing</th><th scope="col">Examples</th></tr></thead>
                <tbody>
                  {info.columns.map((c) => {
                    const role = c.name === target ? 'target' : splitKind === 'time' && c.name === timeCol ? 'time' : null;
                    return (
                      <tr key={c.name}>
                        <td>{role ? <span className="muted">{role}</span> : (
                          <input type="checkbox" aria-label={`use ${c.name} as a feature`} checked={features.has(c.name)} data-testid={`feature-${c.name}`}
                            onChange={(e) => setFeatures((s) => { const n = new Set(s); if (e.target.checked) n.add(c.name); else n.delete(c.name); return n; })} />
                        )}</td>
                        <td className="mono">{c.name}</td><td>{c.kind}</td><td className="num">{int(c.distinct)}{c.distinct >= 10_000 ? '+' : ''}</td>
                        <td className="num">{int(c.missing)}</td><td className="mono small">{c.examples.join(', ')}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <p className="muted small">Kinds and counts from the first {int(info.sampled)} rows. Text columns become categories.</p>
          </Section>

          <Section title="3. Algorithm and validation" id="train-settings">
            <div className="options">
              <label>Algorithm
                <select value={algo} onChange={(e) => setAlgo(e.target.value as Algo)} data-testid="train-algo">
                  {ALGOS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
                </select>
              </label>
              <label>Validation
                <select value={splitKind} onChange={(e) => setSplitKind(e.target.value as 'fraction' | 'time')} data-testid="train-split">
                  <option value="fraction">a random fraction of rows</option>
                  <option value="time" disabled={!timeChoices.length}>rows from a time on</option>
                </select>
              </label>
              {splitKind === 'fraction' ? (
                <label>Fraction <input type="number" min="0.01" max="0.99" step="0.05" value={fraction} onChange={(e) => setFraction(e.target.value)} data-testid="train-fraction" /></label>
              ) : (
                <>
                  <label>Time column
                    <select value={timeCol} onChange={(e) => setTimeCol(e.target.value)} data-testid="train-time-col">
                      <option value="">—</option>
                      {timeChoices.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
                    </select>
                  </label>
                  <label>Validate from <input type="text" value={validFrom} onChange={(e) => setValidFrom(e.target.value)} placeholder={example ?? '2014-01-01'} spellCheck={false} data-testid="train-valid-from" /></label>
                </>
              )}
              <label>Seed <input type="number" step="1" value={seed} onChange={(e) => setSeed(e.target.value)} data-testid="train-seed" /></label>
              <label>Provider
                <select value={provider} onChange={(e) => setProvider(e.target.value)} data-testid="train-provider" disabled={algo === 'gbdt'}>
                  {PROVIDERS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
                </select>
              </label>
            </div>
            <p className="muted small">{algo === 'gbdt' ? 'Gradient boosting trains on the CPU.' : 'logreg and mlp can train as ONNX Runtime graph steps on a provider; a provider that cannot work here stops the run with the reason.'} The same data, settings and seed give the same model.onnx.</p>
            {problems.length > 0 && <ul className="reasons muted" data-testid="train-problems">{problems.map((p) => <li key={p}>{p}</li>)}</ul>}
            <div className="actions">
              <button type="button" className="btn btn-primary" disabled={problems.length > 0 || starting} onClick={start} data-testid="train-start">{starting ? 'Starting…' : 'Train'}</button>
            </div>
          </Section>
        </>
      )}

      {(runs.data?.length ?? 0) > 0 && (
        <Section title="Training runs (this session)" id="train-runs">
          <div className="table-wrap">
            <table className="table" data-testid="train-runs">
              <thead><tr><th scope="col">Run</th><th scope="col">Model</th><th scope="col">File</th><th scope="col">Algorithm</th><th scope="col">Status</th><th scope="col">Installed</th></tr></thead>
              <tbody>
                {runs.data!.map((r) => (
                  <tr key={r.id}>
                    <td className="mono"><a href={href('train', r.id)}>{r.id}</a></td><td>{r.name}</td><td className="mono">{r.inputName}</td>
                    <td>{r.result?.algo ?? r.algo}</td><td><StatusBadge status={r.status} live={r.status === 'running'} /></td>
                    <td>{r.installed ? `${r.installed.name}@${r.installed.version}` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      )}
    </div>
  );
}

/**
 * Loss by step per algorithm: the validation loss (boosting reports it each iteration) solid, the
 * training loss (neural models report it each epoch) dashed; whichever the trainer reports.
 */
function LossChart({ run }: { run: TrainRun }) {
  const series = Object.entries(run.curves).filter(([, pts]) => pts.length > 1);
  if (!series.length) return <p className="muted chart-placeholder">The loss appears here as the model trains.</p>;
  const W = 400;
  const H = 120;
  return (
    <div className="charts">
      {series.map(([algo, pts]) => {
        const values = pts.flatMap((p) => [p.trainLoss, p.validLoss]).filter((v): v is number => v !== null && Number.isFinite(v));
        const lo = Math.min(...values);
        const hi = Math.max(...values);
        const span = hi - lo || 1;
        const of = Math.max(pts[pts.length - 1].step, run.step?.algo === algo ? run.step.of : 0);
        const unit = run.step?.algo === algo ? run.step.unit : algo === 'gbdt' ? 'iteration' : 'epoch';
        const path = (get: (p: (typeof pts)[number]) => number | null) => pts
          .map((p) => [p.step, get(p)] as const).filter((x): x is readonly [number, number] => x[1] !== null && Number.isFinite(x[1]))
          .map(([st, v], i) => `${i ? 'L' : 'M'}${(((st - 1) / Math.max(1, of - 1)) * W).toFixed(1)},${(H - ((v - lo) / span) * (H - 8) - 4).toFixed(1)}`).join(' ');
        const valid = path((p) => p.validLoss);
        const train = path((p) => p.trainLoss);
        const last = pts[pts.length - 1];
        return (
          <figure className="chart" key={algo} data-testid={`loss-${algo}`}>
            <figcaption>{algo}: {valid ? 'validation loss' : 'training loss'} by {unit} ({int(last.step)} of {int(of)})</figcaption>
            <svg role="img" aria-label={`${algo}: ${valid ? `validation loss ${f4(last.validLoss)}` : `training loss ${f4(last.trainLoss)}`} after ${last.step} ${unit}s`} viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="spark">
              {train && <path d={train} fill="none" stroke="var(--muted)" strokeWidth={2} strokeDasharray={valid ? '4 3' : undefined} vectorEffect="non-scaling-stroke" />}
              {valid && <path d={valid} fill="none" stroke="var(--bar)" strokeWidth={2} vectorEffect="non-scaling-stroke" />}
            </svg>
            <div className="hist-axis"><span>{unit} 1 · loss {f4(hi)} (top) … {f4(lo)} (bottom)</span><span>{unit} {int(of)}</span></div>
          </figure>
        );
      })}
    </div>
  );
}

function TrainRunView({ id }: { id: string }) {
  const client = useClient();
  const got = useCall('train.get', { id });
  const [live, setLive] = useState<TrainRun | undefined>();
  const [cancelling, setCancelling] = useState(false);
  const [installing, setInstalling] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const { reload } = got;
  useEvents((e) => {
    if ((e.type === 'train-progress' || e.type === 'train-finished') && e.run.id === id) {
      setLive(e.run);
      if (e.type === 'train-finished') reload();
    }
  });
  const detail: TrainRunDetail | undefined = got.data;
  // the newer of the two (events carry progress; train.get carries the card once finished)
  const run: TrainRun | undefined = useMemo(() => {
    if (!detail) return live;
    if (!live) return detail;
    const rank = (r: TrainRun) => (r.status === 'running' ? 0 : 1) * 1e9 + (r.installed ? 1 : 0) * 1e8 + r.seconds;
    return rank(live) > rank(detail) ? live : detail;
  }, [detail, live]);
  const card = detail?.status === run?.status ? detail?.card : null;

  const cancel = () => {
    setCancelling(true);
    client.call('train.cancel', { id }).catch((e: unknown) => setError(asApiError(e))).finally(() => setCancelling(false));
  };
  const install = () => {
    setInstalling(true);
    setError(undefined);
    client.call('train.install', { id }).then((r) => { setLive(r.run); reload(); }, (e: unknown) => setError(asApiError(e))).finally(() => setInstalling(false));
  };

  if (!run) return <div className="screen"><h1>Training run</h1><ErrorBox error={got.error} /><p className="muted">{got.loading ? 'Loading…' : ''}</p></div>;
  const fraction = run.step ? run.step.step / Math.max(1, run.step.of) : run.read ? run.read.fraction : 0;
  const metricNames = run.result ? Object.keys(run.result.metrics) : [];
  return (
    <div className="screen" data-testid="train-run">
      <h1>Training {run.name} <StatusBadge status={run.status} live={run.status === 'running'} /></h1>
      <p className="muted">
        <span className="mono">{run.inputName}</span> → predict <strong>{run.target}</strong> from {run.features.length ? run.features.join(', ') : 'every other column'};
        {' '}{run.algo}, validation {run.split.kind === 'time' ? `${run.split.column} ≥ ${run.split.validFrom}` : `${pct(run.split.fraction)} of rows at random`}, seed {run.seed}
        {run.provider ? `, ONNX Runtime on ${run.provider}` : ''}.
      </p>
      <ErrorBox error={error} />
      {run.status === 'running' && (
        <div className="progress-panel" data-testid="train-progress">
          <div className="progress-line">
            <progress max={1} value={fraction} aria-label="Training progress" />
            <span className="num progress-pct">{pct(fraction)}</span>
          </div>
          <dl className="progress-facts">
            <div><dt>Stage</dt><dd data-testid="train-stage">{run.stage}</dd></div>
            <div><dt>{run.step?.unit === 'iteration' ? 'Trees (iteration)' : 'Epoch'}</dt><dd className="num" data-testid="train-step">{run.step ? `${int(run.step.step)} / ${int(run.step.of)}` : '—'}</dd></div>
            <div><dt>{run.step?.validLoss !== null && run.step?.validLoss !== undefined ? 'Validation loss' : 'Training loss'}</dt><dd className="num" data-testid="train-loss">{f4(run.step?.validLoss ?? run.step?.trainLoss)}</dd></div>
            <div><dt>Elapsed</dt><dd className="num">{duration(run.seconds)}</dd></div>
          </dl>
          <button type="button" className="btn btn-danger" onClick={cancel} disabled={cancelling} data-testid="train-cancel">{cancelling ? 'Cancelling…' : 'Cancel'}</button>
        </div>
      )}
      {run.status === 'cancelled' && <div className="alert alert-warning" role="status" data-testid="train-cancelled">Cancelled after {duration(run.seconds)}: nothing was written.</div>}
      {run.status === 'failed' && run.error && <ErrorBox error={new ApiError(run.error)} title="Training failed" />}

      <Section title="Loss" id="train-loss"><LossChart run={run} /></Section>

      {run.candidates.length > 0 && (
        <Section title={run.candidates.length > 1 ? 'Candidates (validation)' : 'Validation'} id="train-candidates">
          <div className="table-wrap">
            <table className="table" data-testid="train-candidates">
              <thead><tr><th scope="col">Algorithm</th>{Object.keys(run.candidates[0].metrics).map((k) => <th key={k} scope="col">{k}</th>)}<th scope="col">Fit</th></tr></thead>
              <tbody>
                {run.candidates.map((c) => (
                  <tr key={c.algo} className={run.result?.algo === c.algo && run.candidates.length > 1 ? 'selected' : undefined}>
                    <td>{c.algo}{run.result?.algo === c.algo && run.candidates.length > 1 ? ' (kept)' : ''}</td>
                    {Object.keys(run.candidates[0].metrics).map((k) => <td key={k} className="num" data-testid={`cand-${c.algo}-${k}`}>{f4(c.metrics[k])}</td>)}
                    <td className="num">{duration(c.fitSeconds)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      )}

      {run.result && (
        <Section title="Result" id="train-result" actions={run.installed
          ? <a className="btn" href={href('models', run.installed.name)} data-testid="train-installed">Installed as {run.installed.name}@{run.installed.version} →</a>
          : <button type="button" className="btn btn-primary" onClick={install} disabled={installing} data-testid="train-install">{installing ? 'Installing…' : 'Install as the next local version'}</button>}>
          <div className="stats">
            <Stat label="Algorithm" value={run.result.algo} hint={run.result.task} />
            {metricNames.map((k) => <Stat key={k} label={`validation ${k}`} value={f4(run.result!.metrics[k])} testId={`metric-${k}`} />)}
            <Stat label="Rows" value={`${int(run.result.trainRows)} / ${int(run.result.validRows)}`} hint="training / validation" />
            <Stat label="Model" value={bytes(run.result.sizeBytes)} hint={`sha256 ${run.result.modelSha256.slice(0, 12)}…`} testId="train-model-sha" />
          </div>
          {run.result.warnings.length > 0 && <div className="alert alert-warning"><strong>Warnings</strong><ul className="reasons">{run.result.warnings.map((w) => <li key={w}>{w}</li>)}</ul></div>}
          {card && (
            <>
              <h3>Card: inputs</h3>
              <div className="table-wrap">
                <table className="table" data-testid="train-card-inputs">
                  <thead><tr><th scope="col">Input</th><th scope="col">Type</th><th scope="col">Allowed</th></tr></thead>
                  <tbody>
                    {card.inputs.map((f) => (
                      <tr key={f.name}>
                        <td className="mono">{f.name}</td><td>{f.type}{f.nullable ? ' (nullable)' : ''}</td>
                        <td>{f.type === 'category' ? (f.vocabulary ?? []).join(', ') : f.range ? `${f.range.min ?? '−∞'} … ${f.range.max ?? '∞'}` : ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <dl className="facts" data-testid="train-card-facts">
                <dt>Task</dt><dd>{card.task}{card.outputs.classes ? `: ${card.outputs.classes.join(', ')}` : ''}</dd>
                <dt>Training data</dt><dd className="mono">{run.inputName}, sha256 {run.result.dataSha256.slice(0, 16)}…, {int(run.result.rowsRead)} rows</dd>
                <dt>Drift baseline</dt><dd>{card.baseline ? `${int((card.baseline as { features?: unknown[] }).features?.length ?? 0)} columns (inputs and outputs) from ${int(Number((card.baseline as { rows?: number }).rows ?? 0))} training rows` : 'none'}</dd>
                <dt>Lineage</dt><dd className="mono small">{card.lineage?.codeVersion ?? ''}{card.lineage?.trainingRows !== undefined ? `, ${int(card.lineage.trainingRows)} training rows` : ''}</dd>
              </dl>
            </>
          )}
        </Section>
      )}
      <p><button type="button" className="btn" onClick={() => go('train')}>Train another model</button></p>
    </div>
  );
}
