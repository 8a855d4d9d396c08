// `outpost drift --html F`: the drift report as one self-contained HTML file — inline CSS and inline
// SVG charts, no script, no external request of any kind (a Content-Security-Policy of
// default-src 'none' says so to the browser too), so it opens offline and can be mailed or archived.
// Every text that comes from a card or the data (feature names, category labels) is escaped. Pure.
import type { DriftReport, FeatureDrift } from '../../drift/common/index.ts';
import type { FeatureBins } from './bins.ts';
import { num } from './render.ts';

export interface HtmlReportInput {
  model: string;
  version: number;
  /** what was compared, in words */
  description: string;
  referenceRows: number;
  rows: number;
  report: DriftReport;
  bins: FeatureBins[];
  windows?: { start: string; rows: number; report: DriftReport | null }[];
  alerts: { scope: string; scopeKey: string; feature: string; method: string; score: number | null; threshold: number; nReference: number; nCurrent: number; firstAt: number; clearedAt: number | null }[];
  /** when the report was made (ISO time) */
  generatedAt: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text for HTML element content and attribute values. */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]);

const verdictText = (d: boolean | null): string => (d === null ? 'no verdict' : d ? 'DRIFT' : 'no drift');
const verdictClass = (d: boolean | null): string => (d === null ? 'skip' : d ? 'drift' : 'ok');

function thresholdText(f: FeatureDrift): string {
  if (f.scoreKind === 'distance') return `≥ ${num(f.threshold)}`;
  return `${f.method === 'ks' ? '≤' : '<'} ${num(f.threshold)}`;
}

/** Reference vs current proportions per bin: paired bars, labels underneath. */
function binsSvg(b: FeatureBins): string {
  const n = b.labels.length;
  const W = 560;
  const H = 180;
  const top = 10;
  const bottom = 46;
  const left = 36;
  const plotH = H - top - bottom;
  const slot = (W - left - 8) / Math.max(1, n);
  const bar = Math.max(2, Math.min(18, slot / 2 - 3));
  const max = Math.max(0.01, ...b.reference, ...b.current);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  for (const t of [0, 0.5, 1]) {
    const v = max * t;
    parts.push(`<line x1="${left}" x2="${W - 4}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/><text x="${left - 4}" y="${(y(v) + 3).toFixed(1)}" class="axis" text-anchor="end">${Math.round(v * 100)}%</text>`);
  }
  b.labels.forEach((label, i) => {
    const cx = left + slot * i + slot / 2;
    const r = b.reference[i];
    const c = b.current[i];
    parts.push(`<rect x="${(cx - bar - 1).toFixed(1)}" y="${y(r).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotH - y(r)).toFixed(1)}" class="ref"><title>${esc(label)}: reference ${(r * 100).toFixed(1)}%</title></rect>`);
    parts.push(`<rect x="${(cx + 1).toFixed(1)}" y="${y(c).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotH - y(c)).toFixed(1)}" class="cur"><title>${esc(label)}: current ${(c * 100).toFixed(1)}%</title></rect>`);
    const short = label.length > 14 ? `${label.slice(0, 13)}…` : label;
    parts.push(`<text x="${cx.toFixed(1)}" y="${H - bottom + 14 + (i % 2) * 13}" class="axis" text-anchor="middle">${esc(short)}</text>`);
  });
  const desc = b.labels.map((l, i) => `${l}: ${(b.reference[i] * 100).toFixed(1)}% vs ${(b.current[i] * 100).toFixed(1)}%`).join('; ');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`${b.feature}, reference vs current: ${desc}`)}">${parts.join('')}</svg>`;
}

/** A feature's severity per window (score relative to its threshold; 1 = the threshold line). */
function timelineSvg(feature: string, windows: NonNullable<HtmlReportInput['windows']>): string {
  const W = 560;
  const H = 120;
  const top = 8;
  const bottom = 22;
  const left = 36;
  const cap = 3;
  const plotH = H - top - bottom;
  const x = (i: number) => left + ((W - left - 8) * (windows.length === 1 ? 0.5 : i / (windows.length - 1)));
  const y = (v: number) => top + plotH - (Math.min(v, cap) / cap) * plotH;
  const pts = windows.map((w, i) => {
    const f = w.report?.features.find((g) => g.feature === feature);
    return { i, w, f, sev: f?.severity ?? null };
  });
  const parts = [`<line x1="${left}" x2="${W - 4}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" class="thr"/><text x="${left - 4}" y="${(y(1) + 3).toFixed(1)}" class="axis" text-anchor="end">1×</text><text x="${left - 4}" y="${(y(cap) + 8).toFixed(1)}" class="axis" text-anchor="end">≥3×</text>`];
  const known = pts.filter((p) => p.sev !== null);
  if (known.length > 1) parts.push(`<polyline class="line" points="${known.map((p) => `${x(p.i).toFixed(1)},${y(p.sev!).toFixed(1)}`).join(' ')}"/>`);
  for (const p of known) parts.push(`<circle cx="${x(p.i).toFixed(1)}" cy="${y(p.sev!).toFixed(1)}" r="3" class="${p.f?.drifted ? 'pt-drift' : 'pt'}"><title>${esc(`${p.w.start}: ${num(p.sev)}× threshold (${p.w.rows} rows)`)}</title></circle>`);
  parts.push(`<text x="${left}" y="${H - 6}" class="axis">${esc(windows[0].start)}</text><text x="${W - 4}" y="${H - 6}" class="axis" text-anchor="end">${esc(windows[windows.length - 1].start)}</text>`);
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`${feature}: severity per window, ${known.length} of ${windows.length} windows with a verdict`)}">${parts.join('')}</svg>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}h3{font-size:15px;margin:0 0 4px}
.muted{color:#5b6475}.small{font-size:12px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}.card{border:1px solid #dde2ea;border-radius:8px;padding:10px 14px;min-width:180px}
.card .v{font-size:20px;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:5px 8px;border-bottom:1px solid #e8ebf0;text-align:left;vertical-align:top}
th{background:#f4f6f9;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.drift{background:#fde2e1;color:#a4161a}.ok{background:#dff3e4;color:#1b6b34}.skip{background:#eceff3;color:#4a5263}
.feature{border:1px solid #dde2ea;border-radius:8px;padding:12px;margin:12px 0;break-inside:avoid}
.charts{display:flex;gap:16px;flex-wrap:wrap}figure{margin:8px 0 0}
svg{max-width:100%;height:auto}svg .grid{stroke:#e3e7ee}svg .axis{font-size:10px;fill:#5b6475}
svg .ref{fill:#8a96ab}svg .cur{fill:#2f6fde}svg .thr{stroke:#a4161a;stroke-dasharray:4 3}svg .line{fill:none;stroke:#2f6fde;stroke-width:1.5}
svg .pt{fill:#2f6fde}svg .pt-drift{fill:#a4161a}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:-1px}
footer{margin-top:32px;font-size:12px;color:#5b6475}
@media print{body{margin:0}}
`;

/** The whole report as one HTML document. */
export function renderHtmlReport(r: HtmlReportInput): string {
  const { report } = r;
  const d = report.dataset;
  const p = report.prediction;
  const title = `Drift of ${r.model}@${r.version}`;
  const card = (label: string, value: string, cls: string, hint: string) =>
    `<div class="card"><div class="muted small">${esc(label)}</div><div class="v"><span class="badge ${cls}">${esc(value)}</span></div><div class="muted small">${esc(hint)}</div></div>`;
  const rows = report.features.map((f) => `<tr>
<td><a href="#f-${report.features.indexOf(f)}">${esc(f.feature)}</a></td><td>${esc(f.method)}</td>
<td class="n">${esc(f.statistic === null ? '—' : num(f.statistic))}</td><td class="n">${esc(f.score === null ? '—' : `${f.scoreKind === 'p-value' ? 'p ' : ''}${num(f.score)}`)}</td>
<td class="n">${esc(thresholdText(f))}</td><td><span class="badge ${verdictClass(f.drifted)}">${verdictText(f.drifted)}${f.certain === false ? '?' : ''}</span>${f.reason ? `<div class="muted small">${esc(f.reason)}</div>` : ''}</td>
<td class="n">${f.nReference}</td><td class="n">${f.nCurrent}</td>
<td class="n">${f.unseenCategories ?? f.outOfRange ?? ''}</td>
<td class="n">${f.psi ? esc(`${num(f.psi.value)} ${f.psi.level === 'insufficient' ? '(insufficient data)' : f.psi.level}`) : '—'}</td></tr>`).join('\n');
  const sections = report.features.map((f, i) => {
    const b = r.bins.find((x) => x.feature === f.feature);
    return `<section class="feature" id="f-${i}"><h3>${esc(f.feature)} <span class="badge ${verdictClass(f.drifted)}">${verdictText(f.drifted)}</span></h3>
<div class="muted small">${esc(`${f.method}: ${f.statistic === null ? '—' : num(f.statistic)}, score ${f.score === null ? '—' : num(f.score)} (threshold ${thresholdText(f)}), n ${f.nReference} / ${f.nCurrent}${f.reason ? ` — ${f.reason}` : ''}`)}</div>
<div class="charts">${b ? `<figure>${binsSvg(b)}<figcaption class="small muted"><span class="key" style="background:#8a96ab"></span>reference<span class="key" style="background:#2f6fde"></span>current (share of values per ${f.kind === 'numeric' ? 'reference-decile bin' : 'category'})</figcaption></figure>` : ''}
${r.windows && r.windows.length ? `<figure>${timelineSvg(f.feature, r.windows)}<figcaption class="small muted">severity per ${r.windows.length > 1 ? 'window' : 'window'} (score relative to the threshold; dashed: 1×, drift above)</figcaption></figure>` : ''}</div></section>`;
  }).join('\n');
  const alerts = r.alerts.length
    ? `<table><thead><tr><th>scope</th><th>feature</th><th>method</th><th>score</th><th>threshold</th><th>n ref / cur</th><th>first</th><th>state</th></tr></thead><tbody>${r.alerts.map((a) => `<tr><td>${esc(`${a.scope} ${a.scopeKey}`)}</td><td>${esc(a.feature)}</td><td>${esc(a.method)}</td><td class="n">${esc(num(a.score))}</td><td class="n">${esc(num(a.threshold))}</td><td class="n">${a.nReference} / ${a.nCurrent}</td><td>${esc(new Date(a.firstAt).toISOString())}</td><td>${a.clearedAt === null ? '<span class="badge drift">open</span>' : esc(`cleared ${new Date(a.clearedAt).toISOString()}`)}</td></tr>`).join('')}</tbody></table>`
    : '<p class="muted">No alerts recorded in this scope.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<div class="muted">${esc(`${r.description}: ${r.rows.toLocaleString('en-US')} rows scored vs ${r.referenceRows.toLocaleString('en-US')} reference rows`)}</div>
<div class="cards">
${card('Input drift', verdictText(d.drifted), verdictClass(d.drifted), d.drifted === null ? d.reason ?? '' : `${d.driftedFeatures} of ${d.evaluatedFeatures} input features drifted (threshold ${num(d.threshold)})`)}
${card('Prediction drift', verdictText(p.drifted), verdictClass(p.drifted), p.reason ?? `${p.feature ?? ''}; outputs with drift: ${p.driftedOutputs} of ${p.evaluatedOutputs}`)}
${card('Drift detected', report.detected === null ? 'no verdict' : report.detected ? 'yes' : 'no', verdictClass(report.detected), 'input drift or prediction drift')}
</div>
<h2>Features</h2>
<table><thead><tr><th>feature</th><th>method</th><th>statistic</th><th>score</th><th>threshold</th><th>verdict</th><th>n ref</th><th>n cur</th><th>unseen / out of range</th><th>PSI</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Distributions${r.windows ? ' and severity over time' : ''}</h2>
${sections}
<h2>Alerts</h2>
${alerts}
<footer>Generated by <code>outpost drift</code> at ${esc(r.generatedAt)}. Methods follow Evidently's defaults; numbers match scipy. p-values: drift when below the threshold (KS: at or below); distances: drift at or above it.</footer>
</body></html>
`;
}
