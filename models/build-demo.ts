// Builds the bundled demo model package from real data, reproducibly (run twice → same bytes):
//   node models/build-demo.ts [OUT_DIR]      (default: models/demo)
// Data: Seattle daily weather 2012–2015 (vega-datasets). Target: `weather` (drizzle, fog, rain,
// snow, sun). Features: precipitation, temp_max, temp_min, wind and `season`, derived from the date's
// month. Trains on 2012–2014 and holds out 2015, which also ships as the demo's sample file.
// Writes OUT_DIR/weather/{model.onnx, card.json} and OUT_DIR/weather-2015.csv.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutpostError } from '../src/common/errors.ts';
import type { Card } from '../src/package/common/card.ts';
import type { Dataset, FeatureSpec, FitOptions, TrainedModel } from '../src/train/common/index.ts';
import { accuracy, buildCard, encodeLabels, exportOnnx, logLoss, majorityClass, predict, trainModel } from '../src/train/common/index.ts';
import { computeModelBaseline } from '../src/monitor/common/model-baseline.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const WEATHER_CSV = path.join(here, '..', 'node_modules', 'vega-datasets', 'data', 'seattle-weather.csv');
export const DEFAULT_OUT_DIR = path.join(here, 'demo');

const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const SEASONS = ['winter', 'spring', 'summer', 'autumn'];

// Ranges are physical bounds (near Earth's records), not Seattle's observed extremes: the card's
// ranges reject impossible values; unusual-but-possible ones are drift's business.
export const FEATURES: FeatureSpec[] = [
  { name: 'precipitation', type: 'float', range: { min: 0, max: 2000 }, unit: 'mm', description: 'daily precipitation' },
  { name: 'temp_max', type: 'float', range: { min: -90, max: 60 }, unit: '°C', description: 'daily maximum temperature' },
  { name: 'temp_min', type: 'float', range: { min: -90, max: 60 }, unit: '°C', description: 'daily minimum temperature' },
  // Anemometers drop out more than rain gauges; a missing wind reading is imputed with the training mean.
  { name: 'wind', type: 'float', nullable: true, range: { min: 0, max: 120 }, unit: 'm/s', description: 'daily mean wind speed' },
  { name: 'season', type: 'category', vocabulary: SEASONS, description: 'meteorological season of the date (Dec–Feb winter, Mar–May spring, Jun–Aug summer, Sep–Nov autumn)' },
];

export const FIT_OPTIONS: Omit<FitOptions, 'hidden'> = { activation: 'tanh', epochs: 200, batchSize: 64, learningRate: 0.01, l2: 1e-4, seed: 20120101 };
/** Candidates: logistic regression and two small MLPs; the build picks by accuracy on 2014 (trained on 2012–2013). */
export const HIDDEN_CANDIDATES = [0, 4, 8];

/**
 * The demo card sets no drift methods: Evidently's defaults apply (docs/drift-statistics.md). Its
 * reference (1,096 training days) is above Evidently's 1,000-row switch, so inputs and outputs are
 * judged by distances — normed Wasserstein (numeric) and Jensen–Shannon (categorical) — which need
 * 500 current rows for a verdict: a year of days (365) shows the numbers without a verdict, a
 * longer span (or a day window holding several jobs) gets one. (Earlier builds forced KS and
 * chi-square here, against the defaults.)
 */
export function seasonOf(date: string): string {
  const month = Number(date.slice(5, 7));
  return SEASONS[Math.floor((month % 12) / 3)];
}

export interface WeatherRow { date: string; precipitation: number; temp_max: number; temp_min: number; wind: number; weather: string }

/** Parse the vega seattle-weather CSV (plain: no quoting); bad rows are errors naming file and row. */
export function parseWeatherCsv(text: string, file: string): WeatherRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  const header = 'date,precipitation,temp_max,temp_min,wind,weather';
  if (lines[0] !== header) throw new OutpostError('input', `unexpected header (want "${header}")`, { file, row: 0 });
  return lines.slice(1).map((line, i) => {
    const f = line.split(',');
    const where = { file, row: i + 1 };
    if (f.length !== 6) throw new OutpostError('input', `expected 6 fields, got ${f.length}`, where);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(f[0])) throw new OutpostError('input', `bad date "${f[0]}"`, { ...where, field: 'date' });
    const num = (k: number, field: string): number => {
      const v = Number(f[k]);
      if (f[k] === '' || !Number.isFinite(v)) throw new OutpostError('input', `not a number: "${f[k]}"`, { ...where, field });
      return v;
    };
    return { date: f[0], precipitation: num(1, 'precipitation'), temp_max: num(2, 'temp_max'), temp_min: num(3, 'temp_min'), wind: num(4, 'wind'), weather: f[5] };
  });
}

export function toDataset(rows: readonly WeatherRow[]): Dataset {
  return {
    rows: rows.length,
    columns: {
      precipitation: rows.map((r) => r.precipitation),
      temp_max: rows.map((r) => r.temp_max),
      temp_min: rows.map((r) => r.temp_min),
      wind: rows.map((r) => r.wind),
      season: rows.map((r) => seasonOf(r.date)),
      weather: rows.map((r) => r.weather),
    },
  };
}

export function splitByYear(rows: readonly WeatherRow[]): { train: WeatherRow[]; heldOut: WeatherRow[] } {
  return { train: rows.filter((r) => r.date < '2015'), heldOut: rows.filter((r) => r.date >= '2015') };
}

export function evaluate(model: TrainedModel, rows: readonly WeatherRow[]): { accuracy: number; logLoss: number } {
  const p = predict(model, toDataset(rows));
  const truth = encodeLabels(rows.map((r) => r.weather), CLASSES, 'weather');
  return { accuracy: accuracy(truth, p.labels!), logLoss: logLoss(truth, p.probabilities!) };
}

export function trainWeather(train: readonly WeatherRow[], options: FitOptions): TrainedModel {
  return trainModel({ task: 'multiclass', features: FEATURES, target: 'weather', data: toDataset(train), classes: CLASSES, options });
}

/** Model selection without touching 2015: fit each candidate on 2012–2013, score on 2014; ties go to the smaller model. */
export function selectHidden(train: readonly WeatherRow[]): { hidden: number; validation: Record<string, number> } {
  const fit = train.filter((r) => r.date < '2014');
  const validate = train.filter((r) => r.date >= '2014');
  const validation: Record<string, number> = {};
  let best = { hidden: HIDDEN_CANDIDATES[0], accuracy: -1 };
  for (const hidden of HIDDEN_CANDIDATES) {
    const { accuracy: acc } = evaluate(trainWeather(fit, { ...FIT_OPTIONS, hidden }), validate);
    validation[`hidden=${hidden}`] = acc;
    if (acc > best.accuracy) best = { hidden, accuracy: acc };
  }
  return { hidden: best.hidden, validation };
}

export interface DemoBuild {
  card: Card;
  model: TrainedModel;
  /** files written, relative to the output directory */
  files: string[];
}

/** Write atomically (temp file + rename) so an interrupted build leaves no half-written file. */
function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export function buildDemo(outDir: string = DEFAULT_OUT_DIR, csvFile: string = WEATHER_CSV): DemoBuild {
  const bytes = readFileSync(csvFile);
  const text = bytes.toString('utf8');
  const rows = parseWeatherCsv(text, csvFile);
  const { train, heldOut } = splitByYear(rows);
  if (train.length === 0 || heldOut.length === 0) throw new OutpostError('input', 'need rows before and from 2015', { file: csvFile });

  const selection = selectHidden(train);
  const model = trainWeather(train, { ...FIT_OPTIONS, hidden: selection.hidden });
  const held = evaluate(model, heldOut);
  const trainTruth = encodeLabels(train.map((r) => r.weather), CLASSES, 'weather');
  const heldTruth = encodeLabels(heldOut.map((r) => r.weather), CLASSES, 'weather');
  const majority = majorityClass(trainTruth, CLASSES.length);

  const card = buildCard(model, {
    name: 'seattle-weather',
    version: 1,
    description: 'Daily weather type in Seattle (drizzle, fog, rain, snow, sun) from precipitation, temperatures, wind and season. Trained on 2012–2014, evaluated on 2015.',
    metrics: {
      heldOutAccuracy: held.accuracy,
      heldOutLogLoss: held.logLoss,
      trainAccuracy: evaluate(model, train).accuracy,
      // Always predicting the training set's most frequent class, scored on the held-out year.
      majorityBaselineAccuracy: accuracy(heldTruth, new Int32Array(heldTruth.length).fill(majority)),
    },
    trainingDataHash: createHash('sha256').update(bytes).digest('hex'),
    // The last training day: a timestamp that follows from the data, so rebuilding changes nothing.
    createdAt: `${train[train.length - 1].date}T00:00:00.000Z`,
    recipe: {
      data: 'vega-datasets/data/seattle-weather.csv',
      split: { train: 'date < 2015-01-01', heldOut: 'date >= 2015-01-01' },
      derived: { season: 'from the month of `date`: Dec–Feb winter, Mar–May spring, Jun–Aug summer, Sep–Nov autumn' },
      selection: { candidates: HIDDEN_CANDIDATES.map((h) => ({ hidden: h })), fit: '2012–2013', validate: '2014', metric: 'accuracy', validation: selection.validation },
    },
  });

  // Drift baseline: the training rows and the model's outputs on them. The outputs come from the
  // trainer's own forward pass rounded to float32 (what the graph returns), not from ONNX Runtime,
  // whose last bits may differ between CPUs: the build stays byte-reproducible everywhere.
  const trainData = toDataset(train);
  const trainPred = predict(model, trainData);
  const probs = trainPred.probabilities!;
  const baseline = computeModelBaseline(card, trainData.columns as Record<string, number[] | string[]>, {
    labelCodes: trainPred.labels!,
    probabilities: CLASSES.map((_, c) => Float64Array.from({ length: probs.rows }, (_, i) => Math.fround(probs.data[i * probs.cols + c]))),
  });
  const finalCard: Card = { ...card, baseline: baseline as unknown as Record<string, unknown> };

  const pkgDir = path.join(outDir, 'weather');
  mkdirSync(pkgDir, { recursive: true });
  writeFileAtomic(path.join(pkgDir, 'model.onnx'), exportOnnx(model, 'seattle-weather'));
  writeFileAtomic(path.join(pkgDir, 'card.json'), JSON.stringify(finalCard, null, 2) + '\n');
  // The held-out year as the demo's sample: the inputs, `date` as an id, and the true `weather` (ignored when scoring).
  const sample = ['date,precipitation,temp_max,temp_min,wind,season,weather'];
  const source = text.split(/\r?\n/).slice(1).filter((l) => l !== '' && l.slice(0, 10) >= '2015-01-01');
  for (const line of source) {
    const f = line.split(',');
    sample.push([f[0], f[1], f[2], f[3], f[4], seasonOf(f[0]), f[5]].join(','));
  }
  writeFileAtomic(path.join(outDir, 'weather-2015.csv'), sample.join('\n') + '\n');
  return { card: finalCard, model, files: ['weather/model.onnx', 'weather/card.json', 'weather-2015.csv'] };
}

if (import.meta.main) {
  try {
    const outDir = process.argv[2] ?? DEFAULT_OUT_DIR;
    const { card, files } = buildDemo(outDir);
    const m = card.metrics ?? {};
    const pct = (x: number | undefined): string => `${((x ?? NaN) * 100).toFixed(1)}%`;
    console.log(`seattle-weather@${card.version}: ${String(card.lineage?.recipe?.trainer)} — held-out 2015 accuracy ${pct(m.heldOutAccuracy)} (majority baseline ${pct(m.majorityBaselineAccuracy)}), log-loss ${m.heldOutLogLoss?.toFixed(3)}, train accuracy ${pct(m.trainAccuracy)}`);
    for (const f of files) console.log(`  wrote ${path.join(outDir, f)}`);
  } catch (e) {
    console.error(e instanceof OutpostError ? `build-demo: ${e.describe()}` : e);
    process.exitCode = 1;
  }
}
