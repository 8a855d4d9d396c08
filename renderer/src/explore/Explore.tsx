// Models → a model → Explore: a form built from the card, the model's answer live as the user edits
// it, and a sensitivity curve for one feature (the outputs as it sweeps its range or categories,
// the other fields held) over that feature's baseline distribution. The model runs here, in the
// window, with onnxruntime-web on the verified bytes the core hands over (`models.explore`); the
// record is validated and the outputs read with scoring's own code, so what this screen says is
// what `outpost predict` says. Nothing is logged.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ExploreModel } from '../../../src/api/common/contract.ts';
import type { InputField } from '../../../src/package/common/card.ts';
import { checkRecord, graphInputs, recordOutputs, stackFeeds, type FieldError, type GraphInputs, type RecordOutput } from '../../../src/scoring/common/record.ts';
import type { Feed } from '../../../src/scoring/common/validate.ts';
import { ErrorBox, Section } from '../components/common.tsx';
import { asApiError, href, useClient } from '../state.tsx';
import type { ApiError } from '../client/error.ts';
import { baselineOf, baselineShape, initialValues, numText, recordOf, sweepDomain, sweepValues, type FormValues } from './form.ts';
import type { Runtime } from './runtime.ts';
import { SweepChart, type Sweep } from './SweepChart.tsx';

function decodeBase64(b64: string): Uint8Array {
  const from = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (from) return from(b64);
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

interface Loaded { model: ExploreModel; runtime: Runtime; graph: GraphInputs }

/** the model's answer (or the refusal) for the record `record` (its JSON text) */
type Live = { state: 'idle' } | { state: 'invalid'; record: string; errors: FieldError[] } | { state: 'ok'; record: string; output: RecordOutput } | { state: 'failed'; record: string; message: string };

const POINTS = [50, 200, 500, 1000];

export function Explore({ model: ref }: { model: string }) {
  const client = useClient();
  const [loaded, setLoaded] = useState<Loaded | undefined>();
  const [loadError, setLoadError] = useState<ApiError | undefined>();
  const [values, setValues] = useState<FormValues>({});
  const [live, setLive] = useState<Live>({ state: 'idle' });
  const [feature, setFeature] = useState<string | undefined>();
  const [over, setOver] = useState<'observed' | 'allowed'>('observed');
  const [points, setPoints] = useState(200);
  const [sweep, setSweep] = useState<Sweep | { error: string } | undefined>();
  const [stage, setStage] = useState('Fetching the verified model…');

  // Fetch the verified bytes and open a session on them (released when leaving the screen).
  useEffect(() => {
    let live = true;
    let runtime: Runtime | undefined;
    setLoaded(undefined);
    setLoadError(undefined);
    (async () => {
      setStage('Fetching the verified model…');
      const [model, { createRuntime }] = await Promise.all([client.call('models.explore', { model: ref }), import('./runtime.ts')]);
      if (!live) return;
      setStage(`Starting onnxruntime-web on ${model.name}@${model.version} (${(model.sizeBytes / 1024).toFixed(0)} KiB). The first time in a window this compiles its WebAssembly (28 MB), which takes a few seconds; later models open at once.`);
      runtime = await createRuntime(decodeBase64(model.model));
      if (!live) return void runtime.release();
      const baseline = baselineOf(model.card);
      setValues(initialValues(model.card, baseline));
      // Open on the number whose baseline is most spread (most distinct deciles: a feature that is
      // mostly one value, like rain on dry days, makes a flat first curve), else the first input.
      const spread = (name: string) => new Set((baseline?.features.find((b) => b.name === name) as { binning?: { deciles?: number[] } } | undefined)?.binning?.deciles ?? []).size;
      const numbers = model.card.inputs.filter((f) => f.type === 'float' || f.type === 'int');
      setFeature(numbers.reduce<InputField | undefined>((best, f) => (!best || spread(f.name) > spread(best.name) ? f : best), undefined)?.name ?? model.card.inputs[0]?.name);
      setLoaded({ model, runtime, graph: graphInputs(model.inputs) });
    })().catch((e: unknown) => { if (live) setLoadError(asApiError(e)); });
    return () => { live = false; void runtime?.release(); };
  }, [client, ref]);

  const card = loaded?.model.card;
  const baseline = useMemo(() => (card ? baselineOf(card) : undefined), [card]);
  const text = useMemo(() => (card ? JSON.stringify(recordOf(card, values)) : ''), [card, values]);

  // Live output: validated as `outpost predict` validates, run here; a newer edit wins.
  const seq = useRef(0);
  useEffect(() => {
    if (!loaded) return;
    const mine = ++seq.current;
    const checked = checkRecord(loaded.model.card, loaded.graph, text, 1, 'the form');
    if (!checked.ok) { setLive({ state: 'invalid', record: text, errors: checked.errors }); return; }
    loaded.runtime.run(checked.feeds, () => seq.current === mine).then(
      (out) => { if (out && seq.current === mine) setLive({ state: 'ok', record: text, output: recordOutputs(loaded.model.card, out, 1)[0] }); },
      (e: unknown) => { if (seq.current === mine) setLive({ state: 'failed', record: text, message: (e as Error).message }); },
    );
  }, [loaded, text]);

  // The sweep: every point validated like a record, then ONE batched inference for all of them.
  const sweepSeq = useRef(0);
  useEffect(() => {
    if (!loaded || !feature || live.state !== 'ok') { if (live.state === 'invalid') setSweep(undefined); return; }
    const c = loaded.model.card;
    const f = c.inputs.find((x) => x.name === feature);
    if (!f) return;
    const mine = ++sweepSeq.current;
    const domain = sweepDomain(f, baseline, over, Number(values[f.name]));
    const xs = sweepValues(domain, points);
    const base = recordOf(c, values);
    const feeds: Record<string, Feed>[] = [];
    const kept: (number | string | null)[] = [];
    const refused: string[] = [];
    xs.forEach((x, i) => {
      const r = checkRecord(c, loaded.graph, JSON.stringify({ ...base, [f.name]: f.type === 'bool' && x !== null ? x === 'true' : x }), i + 1, 'the sweep');
      if (r.ok) { feeds.push(r.feeds); kept.push(x); } else refused.push(`${x === null ? 'missing' : String(x)}: ${r.errors.map((e) => e.reason).join('; ')}`);
    });
    if (!feeds.length) { setSweep({ error: `no point of the sweep is valid (${refused[0] ?? 'nothing to sweep'})` }); return; }
    const stacked = stackFeeds(feeds);
    let started = 0;
    loaded.runtime.run(stacked, () => { started = performance.now(); return sweepSeq.current === mine; }).then((out) => {
      if (!out || sweepSeq.current !== mine) return;
      const ms = performance.now() - started;
      setSweep({ feature: f, domain, xs: kept, outputs: recordOutputs(c, out, kept.length), refused, ms, current: base[f.name] as number | string | null, shape: baselineShape(f, baseline) });
    }, (e: unknown) => { if (sweepSeq.current === mine) setSweep({ error: (e as Error).message }); });
  }, [loaded, feature, over, points, live.state, values, baseline]);

  const set = (name: string, v: string | null) => setValues((old) => ({ ...old, [name]: v }));
  const errorsOf = (name: string) => (live.state === 'invalid' ? live.errors.filter((e) => e.field === name) : []);
  const general = live.state === 'invalid' ? live.errors.filter((e) => !card?.inputs.some((f) => f.name === e.field)) : [];
  const name = ref.split('@')[0];
  const sweptType = card?.inputs.find((f) => f.name === feature)?.type;
  const numericSwept = sweptType === 'float' || sweptType === 'int';
  const sweptField = card?.inputs.find((f) => f.name === feature);
  // "Over" only means something when the feature has a baseline or a closed range to choose between
  const canChooseRange = numericSwept && sweptField !== undefined && !(() => { const d = sweepDomain(sweptField, baseline, 'observed'); return d.kind === 'numeric' && d.source.startsWith('this record'); })();

  return (
    <div className="screen explore" data-testid="explore">
      <p><a href={href('models', name)}>← {name}</a></p>
      <h1>Explore {loaded ? `${loaded.model.name}@${loaded.model.version}` : ref}</h1>
      <div className="alert alert-info" data-testid="explore-not-logged">
        <strong>What-if only — nothing is logged.</strong> The model runs in this window on its verified file; explorations are not
        predictions: they are not written to the prediction log, not counted in drift statistics and not synced.
      </div>
      <ErrorBox error={loadError} title="Cannot explore this model" />
      {!loaded && !loadError && <p className="muted" data-testid="explore-loading" role="status"><span className="spinner" /> {stage}</p>}
      {loaded && card && (
        <>
          {loaded.model.warning && <div className="alert alert-warning" role="status">{loaded.model.warning}</div>}
          <div className="explore-grid">
            <Section title="Record" id="explore-record">
              <form className="explore-form" data-testid="explore-form" onSubmit={(e) => e.preventDefault()}>
                {card.inputs.map((f) => (
                  <Field key={f.name} f={f} value={values[f.name] ?? null} onChange={(v) => set(f.name, v)} errors={errorsOf(f.name)} swept={feature === f.name} onSweep={() => setFeature(f.name)} sweepRange={(() => { const d = sweepDomain(f, baseline, over); return d.kind === 'numeric' && !d.source.startsWith('this record') ? d : undefined; })()} />
                ))}
              </form>
              {general.map((e) => <p key={e.field + e.reason} className="error-text" role="alert">{e.field ? `${e.field}: ` : ''}{e.reason}</p>)}
              <details className="explore-json">
                <summary>As <code>outpost predict</code> input</summary>
                <pre className="mono" data-testid="explore-record-json">{text}</pre>
                <pre className="mono small">outpost predict --model {loaded.model.name}@{loaded.model.version} --input &apos;{text}&apos;</pre>
              </details>
            </Section>
            <Section title="Output" id="explore-output">
              <div data-testid="explore-result" data-state={live.state} data-record={live.state === 'idle' ? '' : live.record}>
                <Output live={live} classes={card.outputs.classes} />
              </div>
              <p className="muted small" data-testid="explore-runtime">
                onnxruntime-web, {loaded.runtime.backend === 'webgpu' ? 'WebGPU' : `WebAssembly, ${loaded.runtime.threads} thread${loaded.runtime.threads === 1 ? '' : 's'}${loaded.runtime.threads === 1 ? (globalThis.crossOriginIsolated ? ' (threads are kept for models of 8 MiB or more: small graphs run faster on one)' : ' (page not cross-origin isolated)') : ''}`}
                {' '}({loaded.runtime.note}): its numbers equal <code>outpost predict</code>&apos;s to float32 rounding (within 1e-5; the last digits may differ). Model sha256 {loaded.model.modelSha256.slice(0, 12)}…, verified just now{loaded.model.zipmapsRemoved.length ? `; ZipMap ${loaded.model.zipmapsRemoved.join(', ')} read as its probability tensor, as scoring does` : ''}.
              </p>
            </Section>
          </div>
          <Section title={feature ? `Sensitivity: ${feature}` : 'Sensitivity'} id="explore-sweep" actions={
            <div className="toolbar">
              <label>Feature{' '}
                <select data-testid="sweep-feature" value={feature} onChange={(e) => setFeature(e.target.value)}>
                  {card.inputs.map((f) => <option key={f.name} value={f.name}>{f.name}</option>)}
                </select>
              </label>
              {canChooseRange && <label>Over{' '}
                <select data-testid="sweep-over" value={over} onChange={(e) => setOver(e.target.value as 'observed' | 'allowed')}>
                  <option value="observed">range seen in the baseline</option><option value="allowed">allowed range (card)</option>
                </select>
              </label>}
              {numericSwept && <label>Points{' '}
                <select data-testid="sweep-points" value={points} onChange={(e) => setPoints(Number(e.target.value))}>
                  {POINTS.map((p) => <option key={p} value={p}>{p}</option>)}
                </select>
              </label>}
            </div>
          }>
            {live.state === 'invalid' && <p className="muted">Fix the record to see the curve.</p>}
            {sweep && 'error' in sweep && <p className="error-text" role="alert">{sweep.error}</p>}
            {sweep && !('error' in sweep) && live.state !== 'invalid' && <SweepChart sweep={sweep} classes={card.outputs.classes} />}
          </Section>
        </>
      )}
    </div>
  );
}

function Field({ f, value, onChange, errors, swept, onSweep, sweepRange }: {
  f: InputField; value: string | null; onChange: (v: string | null) => void; errors: FieldError[]; swept: boolean; onSweep: () => void;
  sweepRange: { lo: number; hi: number; integer: boolean } | undefined;
}) {
  const id = `field-${f.name}`;
  const missing = value === null;
  const allowed = f.vocabulary ? `; one of ${f.vocabulary.join(', ')}` : f.range ? `; ${f.range.min ?? '−∞'} … ${f.range.max ?? '∞'}` : '';
  const numeric = f.type === 'float' || f.type === 'int';
  const slider = numeric && sweepRange && !missing && Number.isFinite(Number(value)) ? sweepRange : undefined;
  return (
    <div className={`explore-field${errors.length ? ' invalid' : ''}${swept ? ' swept' : ''}`} data-testid={`field-${f.name}`}>
      <div className="explore-field-head">
        <label htmlFor={id}>{f.name}{f.unit ? <span className="muted"> ({f.unit})</span> : null}</label>
        <button type="button" className="linkish small" aria-pressed={swept} onClick={onSweep} title={`draw the outputs as ${f.name} varies`}>{swept ? 'swept' : 'sweep'}</button>
      </div>
      <div className="explore-field-input">
        {f.type === 'category' || f.type === 'bool' ? (
          <select id={id} value={missing ? '' : value} disabled={missing} onChange={(e) => onChange(e.target.value)} aria-invalid={errors.length > 0}>
            {(f.type === 'bool' ? ['false', 'true'] : f.vocabulary ?? []).map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        ) : (
          <>
            <input id={id} type="text" inputMode="decimal" spellCheck={false} value={missing ? '' : value} disabled={missing} onChange={(e) => onChange(e.target.value)} aria-invalid={errors.length > 0} aria-describedby={`${id}-help`} />
            {slider && (
              <input type="range" aria-label={`${f.name} slider`} min={slider.lo} max={slider.hi} step={slider.integer ? 1 : (slider.hi - slider.lo) / 200}
                value={Math.min(slider.hi, Math.max(slider.lo, Number(value)))} onChange={(e) => onChange(numText(Number(e.target.value)))} />
            )}
          </>
        )}
        {f.nullable && (
          <label className="check small"><input type="checkbox" checked={missing} onChange={(e) => onChange(e.target.checked ? null : f.type === 'category' ? (f.vocabulary?.[0] ?? '') : f.type === 'bool' ? 'false' : '0')} /> missing</label>
        )}
      </div>
      <div id={`${id}-help`} className="muted small">{f.type}{f.nullable ? ', nullable' : ''}{allowed}</div>
      {errors.map((e) => <div key={e.reason} className="error-text small" role="alert" data-testid={`error-${f.name}`}>{e.reason}</div>)}
    </div>
  );
}

function Output({ live, classes }: { live: Live; classes: string[] | undefined }) {
  if (live.state === 'idle') return <p className="muted">…</p>;
  if (live.state === 'failed') return <p className="error-text" role="alert">The model failed on this record: {live.message}</p>;
  if (live.state === 'invalid') return <p className="muted" data-testid="explore-invalid">The record is not valid for this model (see the fields): the model is not run.</p>;
  const o = live.output;
  if (o.value !== undefined) return <div className="stat-value" data-testid="explore-value" data-value={o.value} title={String(o.value)}>{Number(o.value.toPrecision(6))}</div>;
  return (
    <div data-testid="explore-output">
      <div className="explore-label">Label <strong data-testid="explore-label">{o.label}</strong></div>
      {o.probabilities && (
        <ul className="hbars explore-bars" aria-label="Probability per class">
          {(classes ?? Object.keys(o.probabilities)).map((c) => (
            <li key={c} data-testid={`explore-p-${c}`} data-value={o.probabilities![c]}>
              <span>{c}</span>
              <span className="hbar-track"><span className="hbar" style={{ width: `${o.probabilities![c] * 100}%` }} /></span>
              <span className="num" title={String(o.probabilities![c])}>{(o.probabilities![c] * 100).toFixed(2)} %</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
