// The what-if explorer's form model, pure: starting values from the card's drift baseline, the
// record a form state stands for (the JSON `outpost predict --input` takes), the range or the
// categories a feature sweeps, the sweep's points, and the baseline distribution drawn behind it.
import { referenceStats, type Baseline, type BaselineFeature } from '../../../src/drift/common/index.ts';
import { parseBaseline } from '../../../src/drift/common/baseline.ts';
import { binsOf } from '../../../src/monitor/common/bins.ts';
import type { Card, InputField } from '../../../src/package/common/card.ts';

/** What each field holds as the user typed it; null = missing (nullable fields only). */
export type FormValues = Record<string, string | null>;

export function baselineOf(card: Card): Baseline | undefined {
  if (!card.baseline) return undefined;
  try {
    return parseBaseline(card.baseline);
  } catch {
    return undefined; // a card is refused at install when its baseline does not fit it; be lenient here
  }
}

const featureOf = (b: Baseline | undefined, name: string): BaselineFeature | undefined => b?.features.find((f) => f.name === name);

/** A number as short text (what a user would type). */
export const numText = (v: number): string => String(Number(v.toPrecision(6)));

/** Start from a typical record: each number's baseline median, each category's most frequent value. */
export function initialValues(card: Card, baseline: Baseline | undefined): FormValues {
  const values: FormValues = {};
  for (const f of card.inputs) {
    const b = featureOf(baseline, f.name);
    if (f.type === 'category') {
      const vocab = f.vocabulary ?? [];
      let pick = vocab[0] ?? '';
      if (b && b.kind === 'categorical') {
        const ref = referenceStats(b);
        if (ref.kind === 'categorical') {
          let best = -1;
          ref.vocabulary.values.forEach((v, i) => { if (ref.counts[i] > best && vocab.includes(v)) { best = ref.counts[i]; pick = v; } });
        }
      }
      values[f.name] = pick;
    } else if (f.type === 'bool') {
      values[f.name] = 'false';
    } else {
      let v: number;
      if (b && b.kind === 'numeric') v = b.binning.deciles[4];
      else if (f.range?.min !== undefined && f.range.max !== undefined) v = (f.range.min + f.range.max) / 2;
      else v = f.range?.min ?? f.range?.max ?? 0;
      values[f.name] = numText(f.type === 'int' ? Math.round(v) : v);
    }
  }
  return values;
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * The record a form state stands for: numbers typed as JSON numbers stay numbers, anything else is
 * passed on as typed (the JSONL reader then parses numeric text by the file readers' rules, or
 * refuses it with their message); missing → null.
 */
export function recordOf(card: Card, values: FormValues): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (const f of card.inputs) {
    const v = values[f.name];
    if (v === null || v === undefined) rec[f.name] = null;
    else if ((f.type === 'float' || f.type === 'int') && JSON_NUMBER.test(v.trim())) rec[f.name] = Number(v.trim());
    else if (f.type === 'bool' && (v === 'true' || v === 'false')) rec[f.name] = v === 'true';
    else rec[f.name] = v;
  }
  return rec;
}

export type SweepDomain =
  | { kind: 'numeric'; lo: number; hi: number; integer: boolean; source: string }
  | { kind: 'categories'; values: (string | null)[] };

/**
 * What a feature sweeps: categories (and missing, when nullable) one by one; numbers over the range
 * seen in the baseline (within the card's allowed range), or the allowed range when asked or when
 * there is no baseline.
 */
export function sweepDomain(f: InputField, baseline: Baseline | undefined, over: 'observed' | 'allowed', current?: number): SweepDomain {
  if (f.type === 'category') return { kind: 'categories', values: [...(f.vocabulary ?? []), ...(f.nullable ? [null] : [])] };
  if (f.type === 'bool') return { kind: 'categories', values: ['false', 'true', ...(f.nullable ? [null] : [])] };
  const min = f.range?.min ?? -Infinity;
  const max = f.range?.max ?? Infinity;
  const b = featureOf(baseline, f.name);
  const ref = b && b.kind === 'numeric' ? referenceStats(b) : undefined;
  const seen = ref && ref.kind === 'numeric' && ref.n > 0 ? { lo: ref.min, hi: ref.max } : undefined;
  let lo: number;
  let hi: number;
  let source: string;
  if (over === 'allowed' && Number.isFinite(min) && Number.isFinite(max)) [lo, hi, source] = [min, max, 'the allowed range (card)'];
  else if (seen) [lo, hi, source] = [Math.max(min, seen.lo), Math.min(max, seen.hi), 'the range seen in the baseline'];
  else if (Number.isFinite(min) && Number.isFinite(max)) [lo, hi, source] = [min, max, 'the allowed range (card)'];
  else {
    // Neither a baseline nor a closed range: around the record's own value, within the open bound.
    const c = current !== undefined && Number.isFinite(current) ? current : Number.isFinite(min) ? min : Number.isFinite(max) ? max : 0;
    const half = Math.max(10, Math.abs(c));
    [lo, hi, source] = [Math.max(min, c - half), Math.min(max, c + half), "this record's value ± " + numText(half) + ' (no baseline or range in the card)'];
  }
  if (hi <= lo) hi = lo + 1;
  return { kind: 'numeric', lo, hi, integer: f.type === 'int', source };
}

/** The values a sweep feeds (numbers evenly spaced; integers: each one, or evenly spaced ones if there are more than `points`). */
export function sweepValues(d: SweepDomain, points: number): (number | string | null)[] {
  if (d.kind === 'categories') return d.values;
  if (d.integer) {
    const lo = Math.ceil(d.lo);
    const hi = Math.floor(d.hi);
    const n = hi - lo + 1;
    if (n <= points) return Array.from({ length: n }, (_, i) => lo + i);
    return [...new Set(Array.from({ length: points }, (_, i) => Math.round(lo + ((hi - lo) * i) / (points - 1))))];
  }
  return Array.from({ length: points }, (_, i) => (i === points - 1 ? d.hi : d.lo + ((d.hi - d.lo) * i) / (points - 1)));
}

export interface BaselineShape {
  /** numeric: density bars over [from, to) (share of the baseline rows per unit, scaled to the tallest = 1) */
  bars?: { from: number; to: number; share: number; height: number }[];
  /** categorical: share per category (in the sweep's order; null = missing) */
  shares?: Map<string | null, number>;
  rows: number;
}

/**
 * The feature's baseline distribution, from the card: numbers by their ten reference-decile bins (as
 * the Drift screen bins them) between the smallest and largest value seen, drawn as densities;
 * categories by their share.
 */
export function baselineShape(f: InputField, baseline: Baseline | undefined): BaselineShape | undefined {
  const b = featureOf(baseline, f.name);
  if (!b) return undefined;
  const bins = binsOf(b, undefined);
  if (b.kind === 'categorical') {
    const shares = new Map<string | null, number>();
    bins.labels.forEach((l, i) => shares.set(l === '(other)' ? '(other)' : l, bins.reference[i]));
    return { shares, rows: baseline!.rows };
  }
  const ref = referenceStats(b);
  if (ref.kind !== 'numeric' || ref.n === 0) return undefined;
  const d = b.binning.deciles;
  const edges = [ref.min, ...d, ref.max];
  const span = Math.max(ref.max - ref.min, Number.EPSILON);
  // A bin without width (ties at a decile) gets 1 % of the span, so its mass still shows.
  const bars = bins.reference.map((share, i) => {
    const from = edges[i];
    const to = Math.max(edges[i + 1], from + span / 100);
    return { from, to, share, height: share / (to - from) };
  }).filter((x) => x.share > 0);
  const top = Math.max(...bars.map((x) => x.height), Number.MIN_VALUE);
  for (const x of bars) x.height /= top;
  return { bars, rows: baseline!.rows };
}
