// JSON for drift numbers: a statistic can be infinite (χ² with a category the reference never saw,
// the severity of a p-value that underflows to 0), and JSON has no ∞ — JSON.stringify writes null,
// which reads as "not computed". Here ±∞ travel as the strings "Infinity" / "-Infinity" (NaN stays
// null: it means no number), so storage, `--json` output and the app keep ∞ distinct from null.

export type WireNumber = number | 'Infinity' | '-Infinity';

/** A number as JSON can carry it: ±∞ as strings, NaN as null. */
export function toWire(x: number): WireNumber | null;
export function toWire(x: number | null | undefined): WireNumber | null;
export function toWire(x: number | null | undefined): WireNumber | null {
  if (x === null || x === undefined || Number.isNaN(x)) return null;
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

/** The inverse of toWire. */
export function fromWire(x: WireNumber | null | undefined): number | null {
  if (x === 'Infinity') return Infinity;
  if (x === '-Infinity') return -Infinity;
  return typeof x === 'number' ? x : null;
}

/** JSON.stringify with ±∞ written as "Infinity" / "-Infinity". */
export function stringifyDrift(value: unknown, space?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) && !Number.isNaN(v) ? toWire(v) : v), space);
}

/** Fields of a drift report (and of alerts) that hold numbers which may be infinite. */
const NUMERIC_KEYS = new Set(['statistic', 'score', 'severity', 'value', 'lo', 'hi', 'share']);

/**
 * JSON.parse reading "Infinity" / "-Infinity" back as numbers in the numeric fields of a report
 * (statistic, score, severity, PSI value, bounds, share) — never in labels, where it is a category.
 */
export function parseDrift(text: string): unknown {
  return JSON.parse(text, (k, v: unknown) => (NUMERIC_KEYS.has(k) && (v === 'Infinity' || v === '-Infinity') ? fromWire(v) : v));
}
