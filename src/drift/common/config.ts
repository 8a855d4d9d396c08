// Per-model drift settings (the model card's `drift` field): a default method/threshold, per-kind
// and per-feature overrides, the dataset-level share, the PSI levels and the minimum current sample.
// Defaults follow Evidently's data drift preset.
export const driftMethods = ['auto', 'ks', 'wasserstein', 'chisquare', 'z', 'jensenshannon', 'psi'] as const;
export type DriftMethodSetting = (typeof driftMethods)[number];
export type DriftMethod = Exclude<DriftMethodSetting, 'auto'>;

/** Methods whose score is a p-value (drift when small); the others are distances (drift when large). */
export const pValueMethods: readonly DriftMethod[] = ['ks', 'chisquare', 'z'];

/** Evidently's default thresholds. */
export const DEFAULT_THRESHOLDS: Readonly<Record<DriftMethod, number>> = { ks: 0.05, chisquare: 0.05, z: 0.05, wasserstein: 0.1, jensenshannon: 0.1, psi: 0.1 };

/**
 * Smallest current sample that gets a verdict. Tests: p-values account for sample size, but below
 * ~30 values KS/chi-square have almost no power and chi-square's approximation is poor. Distances:
 * measured on a standard normal reference of 5000 and current samples from the same distribution
 * (400 trials each): normed Wasserstein >= 0.1 in 68 % of trials at n = 100 and 37 % at n = 200,
 * 0 % at n = 500; Jensen-Shannon >= 0.1 in 60 % / 26 % / 0 %. Below 500, a distance verdict would be
 * mostly sampling noise.
 */
export const DEFAULT_MIN_CURRENT = { test: 30, distance: 500, psi: 300 } as const;
// PSI (10 reference-decile bins) on a standard normal reference of 1,096 rows (the demo's size) and
// current samples from the same distribution, 400 trials each (scipy/numpy): PSI >= 0.1 ("warn") in
// 49 % of trials at n = 100, 8.5 % at 200, 0.75 % at 300, 0 % at 500; >= 0.25 ("alert") in 1.3 % at
// 100. So PSI gets a level from 300 current values on and is "insufficient" below.

/** A method/threshold rule: the card's default, a per-kind override or a per-feature one. */
export interface DriftRule {
  method?: DriftMethodSetting;
  threshold?: number;
  /** false: report the feature's statistics but give no verdict and leave it out of the share */
  enabled?: boolean;
}

export interface DriftConfig {
  method?: DriftMethodSetting;
  threshold?: number;
  numeric?: DriftRule;
  categorical?: DriftRule;
  features?: Record<string, DriftRule>;
  /** dataset drift when the share of drifted features is at least this */
  datasetShare?: number;
  /** minimum current values for a verdict: one number for all methods, or per family */
  minCurrent?: number | { test?: number; distance?: number; psi?: number };
  psi?: { warn: number; alert: number };
}

export interface DriftConfigProblem { path: string; message: string }

// The rules are written out here without zod, so that scoring (which checks a card's drift settings
// when a job starts and at every checkpoint) does not load it. They state what the zod schema this
// replaced stated, with its messages, issue order and output (keys in the schema's order);
// test/drift-config-rules.test.ts holds the two to the same results on every value a card can hold.

/** A problem at `path`; `stop`: the value's type is wrong, so checks after it and the object's own checks are skipped (zod's "aborted"). */
interface Issue { path: string[]; message: string; stop: boolean }
type Check = (v: unknown, path: string[], issues: Issue[]) => unknown;

const INT_MAX = Number.MAX_SAFE_INTEGER;
const received = (v: unknown): string => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stopped = (issues: Issue[], from = 0): boolean => issues.slice(from).some((i) => i.stop);

/** A finite number, then `bounds` in order (each may stop the rest). */
function number(...bounds: ((n: number) => Omit<Issue, 'path'>[])[]): Check {
  return (v, path, issues) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push({ path, message: `Invalid input: expected number, received ${typeof v === 'number' ? String(v) : received(v)}`, stop: true });
      return v;
    }
    for (const bound of bounds) {
      const found = bound(v);
      for (const f of found) issues.push({ path, ...f });
      if (found.some((f) => f.stop)) break;
    }
    return v;
  };
}
const above0 = (n: number) => (n > 0 ? [] : [{ message: 'Too small: expected number to be >0', stop: false }]);
const atMost1 = (n: number) => (n <= 1 ? [] : [{ message: 'Too big: expected number to be <=1', stop: false }]);
const atLeast0 = (n: number) => (n >= 0 ? [] : [{ message: 'Too small: expected number to be >=0', stop: false }]);
const integer = (n: number) => (!Number.isInteger(n)
  ? [{ message: 'Invalid input: expected int, received number', stop: true }]
  : n > INT_MAX ? [{ message: `Too big: expected int to be <=${INT_MAX}`, stop: false }]
    : n < -INT_MAX ? [{ message: `Too small: expected int to be >=${-INT_MAX}`, stop: false }] : []);

const oneOf = (allowed: readonly string[]): Check => (v, path, issues) => {
  if (!allowed.includes(v as string)) issues.push({ path, message: `Invalid option: expected one of ${allowed.map((a) => `"${a}"`).join('|')}`, stop: true });
  return v;
};
const boolean: Check = (v, path, issues) => {
  if (typeof v !== 'boolean') issues.push({ path, message: `Invalid input: expected boolean, received ${received(v)}`, stop: true });
  return v;
};

/**
 * An object with exactly these keys (each optional unless listed in `required`); `refine` runs when
 * nothing stopped. The value is rebuilt with the keys in this order.
 */
function object(shape: Record<string, Check>, required: readonly string[] = [], refine?: (v: Record<string, unknown>) => string | undefined): Check {
  return (v, path, issues) => {
    if (!isObject(v)) {
      issues.push({ path, message: `Invalid input: expected object, received ${received(v)}`, stop: true });
      return v;
    }
    const from = issues.length;
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      if (!(key in v) && !required.includes(key)) continue;
      const value = v[key];
      out[key] = value === undefined && !required.includes(key) ? undefined : check(value, [...path, key], issues);
    }
    const unknown = Object.keys(v).filter((k) => !Object.hasOwn(shape, k));
    if (unknown.length) issues.push({ path, message: `Unrecognized key${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => `"${k}"`).join(', ')}`, stop: false });
    const why = refine && !stopped(issues, from) ? refine(out) : undefined;
    if (why) issues.push({ path, message: why, stop: false });
    return out;
  };
}

/** Keys of the caller's choosing (feature names), each value checked by `each`. */
const record = (each: Check): Check => (v, path, issues) => {
  if (!isObject(v) || ![Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    issues.push({ path, message: `Invalid input: expected record, received ${received(v)}`, stop: true });
    return v;
  }
  const out: Record<string, unknown> = {};
  // an own "__proto__" key (JSON.parse makes one) is left out, not checked: assigning it would set out's prototype
  for (const key of Object.keys(v)) if (key !== '__proto__') out[key] = each(v[key], [...path, key], issues);
  return out;
};

/** The first option that passes; else the problems of the only option whose type fitted, else "Invalid input". */
const either = (...options: Check[]): Check => (v, path, issues) => {
  const tried = options.map((check) => {
    const own: Issue[] = [];
    return { value: check(v, path, own), own };
  });
  const ok = tried.find((t) => t.own.length === 0);
  if (ok) return ok.value;
  const fitted = tried.filter((t) => !stopped(t.own));
  if (fitted.length === 1) {
    issues.push(...fitted[0].own);
    return fitted[0].value;
  }
  issues.push({ path, message: 'Invalid input', stop: true });
  return v;
};

const count = number(integer, atLeast0);
const rule = object({ method: oneOf(driftMethods), threshold: number(above0), enabled: boolean });
const config = object({
  method: oneOf(driftMethods),
  threshold: number(above0),
  numeric: rule,
  categorical: rule,
  features: record(rule),
  datasetShare: number(above0, atMost1),
  minCurrent: either(count, object({ test: count, distance: count, psi: count })),
  psi: object({ warn: number(above0), alert: number(above0) }, ['warn', 'alert'], (p) => ((p.warn as number) <= (p.alert as number) ? undefined : 'psi.warn must not exceed psi.alert')),
});

/** Validate an untrusted `drift` card field. */
export function parseDriftConfig(raw: unknown): { ok: true; config: DriftConfig } | { ok: false; problems: DriftConfigProblem[] } {
  const issues: Issue[] = [];
  const value = config(raw ?? {}, [], issues);
  if (!issues.length) return { ok: true, config: value as DriftConfig };
  return { ok: false, problems: issues.map((i) => ({ path: ['drift', ...i.path].join('.'), message: i.message })) };
}

export interface ResolvedRule { method: DriftMethodSetting; threshold?: number; enabled: boolean; source: 'auto' | 'default' | 'kind' | 'feature' }

/** Feature rule > kind rule > top-level default > auto (the most specific setting wins, per field). */
export function resolveRule(config: DriftConfig, feature: string, kind: 'numeric' | 'categorical'): ResolvedRule {
  const layers: [DriftRule | undefined, ResolvedRule['source']][] = [
    [config.features?.[feature], 'feature'],
    [config[kind], 'kind'],
    [{ method: config.method, threshold: config.threshold }, 'default'],
  ];
  let method: DriftMethodSetting = 'auto';
  let source: ResolvedRule['source'] = 'auto';
  let threshold: number | undefined;
  let enabled = true;
  for (const [rule, src] of [...layers].reverse()) {
    if (!rule) continue;
    if (rule.method !== undefined) { method = rule.method; source = src; }
    if (rule.threshold !== undefined) threshold = rule.threshold;
    if (rule.enabled !== undefined) enabled = rule.enabled;
  }
  return { method, threshold, enabled, source };
}

/** The minimum current sample for a verdict with `method`, or ('psi-level') for PSI's ok/warn/alert level. */
export function minCurrentFor(config: DriftConfig, method: DriftMethod | 'psi-level'): number {
  const family = method === 'psi-level' ? 'psi' : pValueMethods.includes(method) ? 'test' : 'distance';
  const m = config.minCurrent;
  if (typeof m === 'number') return m;
  return m?.[family] ?? DEFAULT_MIN_CURRENT[family];
}
