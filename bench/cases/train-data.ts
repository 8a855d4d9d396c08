// The train bench's real data sets, as in-memory tables: flights-3m (vega-datasets; delay > 15 min
// from hour, weekday, distance, origin, destination) and Seattle weather (weather type from
// precipitation, temperatures, wind). Also written as CSV for scikit-learn to read the very same rows.
import fs from 'node:fs';
import path from 'node:path';
import { openSource } from '../../src/io/node/open.ts';
import type { TrainTable } from '../../src/train/common/table.ts';
import { REPO } from '../lib.ts';

export const FLIGHTS = path.join(REPO, 'node_modules/vega-datasets/data/flights-3m.parquet');
export const WEATHER = path.join(REPO, 'node_modules/vega-datasets/data/seattle-weather.csv');

/** Flights of January–June 2001 (train on Jan–Mar, validate on Apr–Jun); `month` is the split column. */
export async function flightsTable(maxRows = Infinity): Promise<TrainTable> {
  const src = await openSource(FLIGHTS);
  const hour: number[] = [];
  const weekday: number[] = [];
  const distance: number[] = [];
  const origin: (string | null)[] = [];
  const destination: (string | null)[] = [];
  const late: number[] = [];
  const month: number[] = [];
  try {
    for await (const b of src.batches([{ name: 'date', kind: 'string' }, { name: 'delay', kind: 'number' }, { name: 'distance', kind: 'number' }, { name: 'origin', kind: 'string' }, { name: 'destination', kind: 'string' }], { batchRows: 65536 })) {
      const [d, del, dist, o, de] = b.columns as unknown as [{ values: (string | null)[] }, { values: Float64Array }, { values: Float64Array }, { values: (string | null)[] }, { values: (string | null)[] }];
      for (let i = 0; i < b.length && hour.length < maxRows; i++) {
        const t = d.values[i];
        if (t === null || Number.isNaN(del.values[i])) continue;
        // local departure time written as UTC: read it back as written
        const m = Number(t.slice(5, 7));
        if (m > 6) continue;
        const date = new Date(t);
        hour.push(date.getUTCHours());
        weekday.push(date.getUTCDay());
        distance.push(dist.values[i]);
        origin.push(o.values[i]);
        destination.push(de.values[i]);
        late.push(del.values[i] > 15 ? 1 : 0);
        month.push(m);
      }
    }
  } finally {
    await src.close();
  }
  return { rows: hour.length, columns: { hour: Float64Array.from(hour), weekday: Float64Array.from(weekday), distance: Float64Array.from(distance), origin, destination, month: Float64Array.from(month), late: Float64Array.from(late) } };
}

export function weatherTable(): TrainTable {
  const lines = fs.readFileSync(WEATHER, 'utf8').split(/\r?\n/).filter((l) => l !== '').slice(1);
  const f = lines.map((l) => l.split(','));
  const num = (k: number) => Float64Array.from(f, (r) => Number(r[k]));
  return { rows: f.length, columns: { year: Float64Array.from(f, (r) => Number(r[0].slice(0, 4))), precipitation: num(1), temp_max: num(2), temp_min: num(3), wind: num(4), weather: f.map((r) => r[5]) } };
}

export function writeTableCsv(t: TrainTable, file: string): void {
  const names = Object.keys(t.columns);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, names.join(',') + '\n');
    let chunk = '';
    for (let i = 0; i < t.rows; i++) {
      chunk += names.map((n) => { const v = (t.columns[n] as ArrayLike<unknown>)[i]; return v === null || (typeof v === 'number' && Number.isNaN(v)) ? '' : String(v); }).join(',') + '\n';
      if (chunk.length > 1 << 22) { fs.writeSync(fd, chunk); chunk = ''; }
    }
    fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
}
