// The sensitivity curve: the model's outputs (each class's probability, or the value) as one feature
// sweeps its range — or, for categories, one group per category — with the feature's baseline
// distribution behind it (grey) and the record's own value marked. Plain SVG, like the other charts.
import type { InputField } from '../../../src/package/common/card.ts';
import type { RecordOutput } from '../../../src/scoring/common/record.ts';
import { pct } from '../format.ts';
import type { BaselineShape, SweepDomain } from './form.ts';

export interface Sweep {
  feature: InputField;
  domain: SweepDomain;
  /** the values fed, one per point (points the validation refused are left out) */
  xs: (number | string | null)[];
  outputs: RecordOutput[];
  refused: string[];
  /** the batched inference's wall time */
  ms: number;
  /** the record's own value of the feature */
  current: number | string | null;
  shape: BaselineShape | undefined;
}

const W = 600;
const H = 220;
const fmt = (v: number): string => String(Number(v.toPrecision(4)));

export function SweepChart({ sweep, classes }: { sweep: Sweep; classes: string[] | undefined }) {
  const { xs, outputs, domain, shape, feature } = sweep;
  const regression = outputs[0]?.value !== undefined;
  const series = regression ? ['value'] : (classes ?? Object.keys(outputs[0]?.probabilities ?? {}));
  const yOf = (o: RecordOutput, s: string): number => (regression ? o.value! : o.probabilities?.[s] ?? (o.label === s ? 1 : 0));
  const ys = series.map((s) => outputs.map((o) => yOf(o, s)));
  let yLo = 0;
  let yHi = 1;
  if (regression) {
    yLo = Math.min(...ys[0]);
    yHi = Math.max(...ys[0]);
    if (yHi - yLo < 1e-12) { yLo -= 1; yHi += 1; }
    const pad = (yHi - yLo) * 0.05;
    yLo -= pad;
    yHi += pad;
  }
  const Y = (v: number) => H - 4 - ((v - yLo) / (yHi - yLo)) * (H - 8);
  const summary = `${feature.name} swept over ${xs.length} points in one batched inference (${sweep.ms.toFixed(1)} ms)`;

  if (domain.kind === 'categories') {
    const n = xs.length;
    const gw = W / n;
    const bw = Math.max(2, (gw * 0.8) / series.length);
    return (
      <figure className="chart sweep" data-testid="sweep-chart" data-points={n} data-kind="categories">
        <figcaption>{regression ? 'Value' : 'Probability per class'} for each {feature.name}{shape ? `; grey: share of the baseline's ${shape.rows.toLocaleString('en-US')} rows` : ''}</figcaption>
        <svg role="img" aria-label={summary} viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="sweep-svg">
          {xs.map((x, i) => {
            const share = x === null ? undefined : shape?.shares?.get(String(x));
            return (
              <g key={String(x)} data-testid="sweep-point">
                {x === sweep.current && <rect className="current-band" x={i * gw} width={gw} y={0} height={H} />}
                {share !== undefined && <rect className="baseline-bar" x={i * gw + 2} width={gw - 4} y={H - share * (H - 8)} height={share * (H - 8)}><title>{`${x ?? 'missing'}: ${pct(share)} of the baseline`}</title></rect>}
                {series.map((s, k) => (
                  <rect key={s} className={`series series-${k % 8}`} x={i * gw + gw * 0.1 + k * bw} width={bw - 1} y={Y(ys[k][i])} height={Math.max(0.5, H - 4 - Y(ys[k][i]))}>
                    <title>{`${x ?? 'missing'} → ${s}: ${regression ? ys[k][i] : pct(ys[k][i])}`}</title>
                  </rect>
                ))}
              </g>
            );
          })}
        </svg>
        <div className="sweep-cats muted">{xs.map((x) => <span key={String(x)}>{x === null ? 'missing' : String(x)}</span>)}</div>
        <Legend series={series} regression={regression} baseline={shape !== undefined} />
        <p className="muted small" data-testid="sweep-summary">{summary}.{sweep.refused.length ? ` ${sweep.refused.length} refused: ${sweep.refused[0]}` : ''}</p>
      </figure>
    );
  }

  const lo = domain.lo;
  const hi = domain.hi;
  const X = (v: number) => ((v - lo) / (hi - lo)) * W;
  const nums = xs as number[];
  const paths = ys.map((col) => nums.map((x, i) => `${i ? 'L' : 'M'}${X(x).toFixed(2)},${Y(col[i]).toFixed(2)}`).join(''));
  const cur = typeof sweep.current === 'number' && sweep.current >= lo && sweep.current <= hi ? X(sweep.current) : undefined;
  return (
    <figure className="chart sweep" data-testid="sweep-chart" data-points={nums.length} data-kind="numeric">
      <figcaption>{regression ? 'Value' : 'Probability per class'} as {feature.name} goes over {domain.source}{shape ? `; grey: baseline distribution (${shape.rows.toLocaleString('en-US')} rows)` : domain.source.includes('no baseline') ? '' : '; no baseline in the card'}</figcaption>
      <svg role="img" aria-label={summary} viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="sweep-svg">
        {shape?.bars?.map((b, i) => {
          const x0 = Math.max(0, X(b.from));
          const x1 = Math.min(W, X(b.to));
          return x1 > x0 && <rect key={i} className="baseline-bar" x={x0} width={x1 - x0} y={H - b.height * (H - 8)} height={b.height * (H - 8)}><title>{`${fmt(b.from)} – ${fmt(b.to)}: ${pct(b.share)} of the baseline`}</title></rect>;
        })}
        {!regression && [0.25, 0.5, 0.75].map((g) => <line key={g} className="gridline" x1={0} x2={W} y1={Y(g)} y2={Y(g)} />)}
        {cur !== undefined && <line className="current-line" data-testid="sweep-current" x1={cur} x2={cur} y1={0} y2={H} />}
        {paths.map((d, k) => <path key={series[k]} className={`line series-line series-${k % 8}`} d={d} data-testid={`sweep-line-${series[k]}`} data-points={nums.length} />)}
      </svg>
      <div className="hist-axis muted"><span>{fmt(lo)}</span><span>{feature.name}{feature.unit ? ` (${feature.unit})` : ''}</span><span>{fmt(hi)}</span></div>
      {regression && <div className="hist-axis muted small"><span>value {fmt(yLo)} … {fmt(yHi)}</span></div>}
      <Legend series={series} regression={regression} baseline={shape !== undefined} />
      <p className="muted small" data-testid="sweep-summary">{summary}.{sweep.refused.length ? ` ${sweep.refused.length} refused: ${sweep.refused[0]}` : ''}</p>
    </figure>
  );
}

function Legend({ series, regression, baseline }: { series: string[]; regression: boolean; baseline: boolean }) {
  return (
    <ul className="chart-legend">
      {series.map((s, k) => <li key={s}><span className={`swatch series-swatch-${k % 8}`} /> {regression ? 'predicted value' : `p(${s})`}</li>)}
      {baseline && <li><span className="swatch swatch-ref" /> baseline</li>}
      <li><span className="swatch swatch-current" /> this record</li>
    </ul>
  );
}
