// `outpost hub export predictions`: what devices synced, as one Parquet file (for DuckDB, pandas):
// one row per prediction with the device, job, time and row number, the outputs, and the logged
// inputs (null where the device's logging policy did not keep them). Batches are decoded one at a
// time, so memory stays bounded whatever the export's size.
import fs from 'node:fs';
import { OutpostError, quote } from '../../common/errors.ts';
import type { OutColumn } from '../../io/common/table.ts';
import { openSink } from '../../io/node/open.ts';
import { unpackColumns, type PackedColumn } from '../../store/common/packing.ts';
import type { Hub } from './repository.ts';

export interface ExportQuery { model: string; version?: number; since?: number; device?: string }

interface BatchRow { name: string; job_id: string; model_version: number; first_row: number; row_count: number; logged_at: number; outputs: Buffer; inputs: Buffer | null }

const toOut = (c: PackedColumn, name = c.name): OutColumn => {
  switch (c.type) {
    case 'f32': return { name, type: 'float32', values: c.values };
    case 'f64': return { name, type: 'float64', values: c.values };
    case 'i32': return { name, type: 'int', values: c.values };
    case 'str': return { name, type: 'string', values: c.values };
  }
};

export async function exportPredictions(hub: Hub, q: ExportQuery, out: string): Promise<{ rows: number; batches: number; devices: number; file: string }> {
  const where = ['p.model_name = ?'];
  const args: unknown[] = [q.model];
  if (q.version !== undefined) { where.push('p.model_version = ?'); args.push(q.version); }
  if (q.since !== undefined) { where.push('p.logged_at >= ?'); args.push(q.since); }
  if (q.device !== undefined) { where.push('d.name = ?'); args.push(q.device); }
  const keys = await hub.storage.fleet.all<{ device_id: string; job_id: string; batch_seq: number }>(
    `SELECT p.device_id, p.job_id, p.batch_seq FROM fleet_predictions p JOIN fleet_devices d ON d.id = p.device_id WHERE ${where.join(' AND ')}
     ORDER BY d.name, p.logged_at, p.job_id, p.batch_seq`, args);
  if (!keys.length) throw new OutpostError('not-found', `no synced predictions of ${q.model}${q.version !== undefined ? `@${q.version}` : ''}${q.device !== undefined ? ` from device ${quote(q.device)}` : ''}${q.since !== undefined ? ` since ${new Date(q.since).toISOString()}` : ''}`);
  // The first batch fixes the columns; batches of other layouts (another version) would not fit one file.
  let layout: { outputs: string[]; inputs: string[] } | undefined;
  const sink = await openSink(out, 'parquet');
  let rows = 0;
  const devices = new Set<string>();
  try {
    for (const k of keys) {
      const [b] = await hub.storage.fleet.all<BatchRow>(`SELECT d.name, p.job_id, p.model_version, p.first_row, p.row_count, p.logged_at, p.outputs, p.inputs
        FROM fleet_predictions p JOIN fleet_devices d ON d.id = p.device_id WHERE p.device_id = ? AND p.job_id = ? AND p.batch_seq = ?`, [k.device_id, k.job_id, k.batch_seq]);
      const outs = unpackColumns(b.outputs);
      const ins = b.inputs ? unpackColumns(b.inputs) : [];
      const rowCol = outs.find((c) => c.name === '#row');
      const n = Number(b.row_count);
      const rowNo = Float64Array.from({ length: n }, (_, i) => (rowCol ? Number(rowCol.values[i]) : Number(b.first_row) + i));
      const inputNames = ins.filter((c) => c.name !== '#row').map((c) => c.name);
      layout ??= { outputs: outs.filter((c) => c.name !== '#row').map((c) => c.name), inputs: inputNames };
      const outNames = outs.filter((c) => c.name !== '#row').map((c) => c.name);
      if (outNames.join('\0') !== layout.outputs.join('\0')) throw new OutpostError('usage', `batches of ${q.model} have different output columns (several versions?); export one version with --model ${q.model}@<version>`);
      // inputs by row number (sampled logging keeps some rows only); absent → null
      const irow = ins.find((c) => c.name === '#row');
      const at = new Map<number, number>();
      if (ins.length) for (let j = 0; j < (ins[0].values.length); j++) at.set(irow ? Number(irow.values[j]) : Number(b.first_row) + j, j);
      const inputCols: OutColumn[] = layout.inputs.map((name) => {
        const c = ins.find((x) => x.name === name);
        if (!c || c.type === 'str') return { name: `input.${name}`, type: 'string', values: Array.from(rowNo, (r) => { const j = at.get(r); return c && j !== undefined ? (c.values[j] as string | null) : null; }) };
        return { name: `input.${name}`, type: 'float64', values: Float64Array.from(rowNo, (r) => { const j = at.get(r); return j !== undefined ? Number(c.values[j]) : NaN; }) };
      });
      devices.add(b.name);
      await sink.write({
        length: n,
        columns: [
          { name: 'device', type: 'string', values: new Array<string>(n).fill(b.name) },
          { name: 'job_id', type: 'string', values: new Array<string>(n).fill(b.job_id) },
          { name: 'model_version', type: 'int', values: new Int32Array(n).fill(Number(b.model_version)) },
          { name: 'logged_at_ms', type: 'int', values: new Float64Array(n).fill(Number(b.logged_at)) },
          { name: 'row', type: 'int', values: rowNo },
          ...outs.filter((c) => c.name !== '#row').map((c) => toOut(c)),
          ...inputCols,
        ],
      });
      rows += n;
    }
    await sink.finish();
  } catch (e) {
    // no half-written export left behind
    const st = await sink.checkpoint().catch(() => undefined);
    await sink.close().catch(() => undefined);
    if (st) fs.rmSync(st.tempPath, { force: true });
    throw e;
  }
  return { rows, batches: keys.length, devices: devices.size, file: out };
}
