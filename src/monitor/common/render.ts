// Terminal text for drift reports: the per-feature table, the dataset verdict, and the metric over
// time as sparklines. Pure (the CLI prints it; the numbers come from drift/common's report).
import { renderSparkline, type DriftReport, type FeatureDrift } from '../../drift/common/index.ts';

const STAT_NAME: Record<string, string> = { ks: 'D', wasserstein: 'W', chisquare: 'χ²', z: 'z', jensenshannon: 'JS', psi: 'PSI' };

/** 3 significant digits; small p-values in exponent form. */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(1);
  return Number(x.toPrecision(3)).toString();
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} pp`;

function thresholdText(f: FeatureDrift): string {
  if (f.scoreKind === 'distance') return `≥ ${num(f.threshold)}`;
  return `${f.method === 'ks' ? '≤' : '<'} ${num(f.threshold)}`;
}

function verdict(f: FeatureDrift): string {
  if (f.drifted === null) return 'skipped*';
  const mark = f.drifted ? 'DRIFT' : 'ok';
  return f.certain === false ? `${mark}?` : mark;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  return rows.map((r) => r.map((cell, c) => cell + ' '.repeat(widths[c] - [...cell].length)).join('  ').trimEnd());
}

/** The per-feature table, reasons for skipped verdicts, and the dataset-level line. */
export function renderReport(report: DriftReport): string[] {
  const head = ['feature', 'method', 'statistic', 'score', 'threshold', 'verdict', 'n ref', 'n cur', 'missing Δ', 'out of range', 'unseen', 'PSI'];
  const rows = report.features.map((f) => [
    f.feature,
    f.method,
    f.statistic === null ? '—' : `${STAT_NAME[f.method] ?? ''} ${num(f.statistic)}`,
    f.score === null ? '—' : `${f.scoreKind === 'p-value' ? 'p ' : ''}${num(f.score)}`,
    thresholdText(f),
    verdict(f),
    String(f.nReference),
    String(f.nCurrent),
    pct(f.missingRate.change),
    f.outOfRange === null ? '' : String(f.outOfRange),
    f.unseenCategories === null ? '' : String(f.unseenCategories),
    f.psi ? `${num(f.psi.value)} ${f.psi.level === 'insufficient' ? 'insufficient data†' : f.psi.level}` : '—',
  ]);
  const lines = table([head, ...rows]);
  const skipped = report.features.filter((f) => f.drifted === null);
  if (skipped.length) lines.push('', ...skipped.map((f) => `* ${f.feature}: ${f.reason ?? 'no verdict'}`));
  if (report.features.some((f) => f.certain === false)) lines.push('? computed from bins: the exact value could fall on the other side of the threshold');
  const thin = report.features.find((f) => f.psi?.level === 'insufficient');
  if (thin) lines.push(`† PSI gets a level from ${thin.psi?.minCurrent ?? '?'} current values on (below that, sampling noise alone reaches the warn level)`);
  lines.push('', ...verdictLines(report));
  return lines;
}

/** Input drift (dataset share over input features) and prediction drift, one line each. */
export function verdictLines(report: DriftReport): string[] {
  const d = report.dataset;
  const p = report.prediction;
  // reports stored by earlier builds have no `prediction`
  const lines = [d.drifted === null
    ? `Input drift: no verdict (${d.reason ?? 'no input feature has a verdict'})`
    : `Input drift: ${d.drifted ? 'YES' : 'no'} — ${d.driftedFeatures} of ${d.evaluatedFeatures} input features drifted (share ${num(d.share)}, threshold ${num(d.threshold)})`];
  if (p) {
    const outputs = p.evaluatedOutputs ? ` (outputs with drift: ${p.driftedOutputs} of ${p.evaluatedOutputs})` : '';
    lines.push(p.drifted === null
      ? `Prediction drift: no verdict (${p.reason ?? 'no verdict'})`
      : `Prediction drift: ${p.drifted ? 'YES' : 'no'} — ${p.feature}${outputs}`);
  }
  return lines;
}

export interface SeriesWindow { start: string; rows: number; report: DriftReport | null }

/** Severity sparkline on a fixed scale, 0 to ≥ 3× the threshold (1× sits a third of the way up). */
function severityLine(values: readonly (number | null)[]): string {
  // renderSparkline scales to the series' own range: two anchors pin it to 0..3, then are cut off
  const line = [...renderSparkline([...values.map((v) => (v === null ? null : Math.min(v, 3))), 0, 3])];
  return line.slice(0, values.length).join('');
}

/**
 * Each feature's severity (score relative to its threshold, ≥ 1 = drift) over the windows, one
 * sparkline character per window (blank: no data or no verdict).
 */
export function renderSeries(windows: readonly SeriesWindow[]): string[] {
  const names: string[] = [];
  for (const w of windows) for (const f of w.report?.features ?? []) if (!names.includes(f.feature)) names.push(f.feature);
  const width = Math.max(7, ...names.map((n) => n.length));
  const withData = windows.filter((w) => w.report).length;
  const sevHead = 'severity 0–3×';
  const sevWidth = Math.max(windows.length, sevHead.length);
  const lines = [`${'feature'.padEnd(width)}  ${sevHead.padEnd(sevWidth)}  latest  drifted in`];
  for (const name of names) {
    const series = windows.map((w) => w.report?.features.find((f) => f.feature === name) ?? null);
    const sev = series.map((f) => (f === null || f.severity === null ? null : f.severity));
    const latest = [...series].reverse().find((f) => f !== null);
    const drifted = series.filter((f) => f?.drifted === true).length;
    lines.push(`${name.padEnd(width)}  ${severityLine(sev).padEnd(sevWidth)}  ${(latest?.severity === null || latest === undefined ? '—' : `${num(latest.severity)}×`).padEnd(6)}  ${drifted} of ${withData} windows`);
  }
  lines.push(`${'rows'.padEnd(width)}  ${renderSparkline(windows.map((w) => (w.rows > 0 ? w.rows : null))).padEnd(sevWidth)}  (${windows.map((w) => w.rows).reduce((a, b) => a + b, 0)} rows in ${withData} windows)`);
  return lines;
}
