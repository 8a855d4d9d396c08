// Tiny text charts for the terminal: a horizontal bar and a sparkline (Unicode block elements).
import type { DriftReport } from './report.ts';

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const SPARKS = '▁▂▃▄▅▆▇█';

/** A bar of `value / max` of `width` cells, with 1/8-cell resolution, padded to `width`. */
export function renderBar(value: number, max: number, width = 20): string {
  const frac = max > 0 && Number.isFinite(value) ? Math.min(1, Math.max(0, value / max)) : 0;
  const eighths = Math.round(frac * width * 8);
  const bar = '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
  return bar + ' '.repeat(width - [...bar].length);
}

/** One character per value, scaled between the series' min and max (NaN/null → space). */
export function renderSparkline(values: readonly (number | null)[]): string {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return ' '.repeat(values.length);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return ' ';
    const i = hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (SPARKS.length - 1));
    return SPARKS[i];
  }).join('');
}

/**
 * The worst features of a report as bars of severity (score relative to threshold, capped at 3×);
 * the threshold sits at a third of the bar. Skipped features are listed with their reason.
 */
export function renderWorstFeatures(report: DriftReport, top = 5, width = 24): string[] {
  const ranked = [...report.features].sort((a, b) => (b.severity ?? -1) - (a.severity ?? -1)).slice(0, top);
  const nameWidth = Math.max(0, ...ranked.map((f) => f.feature.length));
  return ranked.map((f) => {
    const name = f.feature.padEnd(nameWidth);
    if (f.severity === null) return `${name}  ${' '.repeat(width)}  no verdict: ${f.reason ?? ''}`;
    const mark = f.drifted ? 'DRIFT' : 'ok';
    const times = f.severity >= 100 ? '>99' : f.severity.toFixed(2);
    return `${name}  ${renderBar(f.severity, 3, width)}  ${times}× threshold  ${mark}`;
  });
}
