// What drift monitoring watches for a model: its card inputs, then its outputs (prediction drift),
// and where each one's values come from in a scoring batch. Baselines and live statistics are keyed
// by these names. Pure.
import {
  checkConfigAgainstBaseline, parseBaseline, parseDriftConfig, PREDICTION_PREFIX,
  type Baseline, type BaselineFeature, type DriftConfig, type FeatureSpec,
} from '../../drift/common/index.ts';
import type { Card } from '../../package/common/card.ts';

/**
 * Output features are named like the scored file's columns (`label`, `p_<class>`, `value`) under
 * this prefix (defined with the report, which reads prediction drift from them), so they cannot be
 * mistaken for inputs.
 */
export { PREDICTION_PREFIX };

export type FeatureSource =
  /** card input `index` (= column index of a scoring batch) */
  | { from: 'input'; index: number; type: 'float' | 'int' | 'bool' | 'category' }
  /** predicted class (classifiers) */
  | { from: 'label' }
  /** probability of class `index` */
  | { from: 'probability'; index: number }
  /** regression output */
  | { from: 'value' };

export interface MonitoredFeature { spec: FeatureSpec; source: FeatureSource }

/** Inputs in card order, then the outputs the card maps. Throws if an input takes an output's name. */
export function monitoredFeatures(card: Card): MonitoredFeature[] {
  const out: MonitoredFeature[] = card.inputs.map((f, index) => ({
    spec: { name: f.name, type: f.type, ...(f.vocabulary ? { vocabulary: f.vocabulary } : {}) },
    source: { from: 'input', index, type: f.type },
  }));
  const pred = (col: string) => `${PREDICTION_PREFIX}${col}`;
  if (card.task === 'regression') {
    out.push({ spec: { name: pred('value'), type: 'float' }, source: { from: 'value' } });
  } else {
    const classes = card.outputs.classes ?? [];
    out.push({ spec: { name: pred('label'), type: 'category', vocabulary: classes }, source: { from: 'label' } });
    if (card.outputs.probabilities) classes.forEach((c, index) => out.push({ spec: { name: pred(`p_${c}`), type: 'float' }, source: { from: 'probability', index } }));
  }
  const inputs = new Set(card.inputs.map((f) => f.name));
  const clash = out.find((f) => f.source.from !== 'input' && inputs.has(f.spec.name));
  if (clash) throw new RangeError(`input "${clash.spec.name}" has the name drift monitoring gives a model output; rename the input`);
  return out;
}

/** A baseline feature with where its current values come from. */
export interface BoundFeature { baseline: BaselineFeature; source: FeatureSource }

export type Monitoring =
  | { status: 'none'; reason: string }
  | { status: 'invalid'; problems: string[] }
  | { status: 'ok'; baseline: Baseline; config: DriftConfig; features: BoundFeature[] };

/**
 * The card's drift baseline and settings, validated against the card: every baseline feature must
 * be an input or output of this card with the same kind (and vocabulary), and the settings must fit.
 */
export function modelMonitoring(card: Card): Monitoring {
  if (card.baseline === undefined) return { status: 'none', reason: `${card.name}@${card.version} has no drift baseline (add one to the package with \`outpost baseline <reference-file> --package <dir>\`)` };
  let baseline: Baseline;
  try {
    baseline = parseBaseline(card.baseline);
  } catch (e) {
    return { status: 'invalid', problems: [(e as Error).message] };
  }
  const parsed = parseDriftConfig(card.drift);
  if (!parsed.ok) return { status: 'invalid', problems: parsed.problems.map((p) => `${p.path}: ${p.message}`) };
  let monitored: MonitoredFeature[];
  try {
    monitored = monitoredFeatures(card);
  } catch (e) {
    return { status: 'invalid', problems: [(e as Error).message] };
  }
  const byName = new Map(monitored.map((m) => [m.spec.name, m]));
  const problems = [...checkConfigAgainstBaseline(parsed.config, baseline)];
  const features: BoundFeature[] = [];
  for (const b of baseline.features) {
    const m = byName.get(b.name);
    if (!m) { problems.push(`baseline feature "${b.name}" is neither an input nor an output of the card`); continue; }
    const wantKind = m.spec.type === 'category' ? 'categorical' : 'numeric';
    if (b.kind !== wantKind) { problems.push(`baseline feature "${b.name}" is ${b.kind}, the card makes it ${wantKind}`); continue; }
    if (b.kind === 'categorical' && JSON.stringify(b.vocabulary) !== JSON.stringify(m.spec.vocabulary)) {
      problems.push(`baseline feature "${b.name}": vocabulary differs from the card's`);
      continue;
    }
    features.push({ baseline: b, source: m.source });
  }
  if (problems.length) return { status: 'invalid', problems };
  return { status: 'ok', baseline, config: parsed.config, features };
}
