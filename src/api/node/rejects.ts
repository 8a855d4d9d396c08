// Pages through a job's rejects file (row, column, reason, value — written by the scoring pipeline).
// Parsed once per file version and cached, since the UI pages through it repeatedly.
import fs from 'node:fs';
import { OutpostError } from '../../common/errors.ts';
import { parseCsv } from '../common/csv-lite.ts';

export interface RejectRow { row: number; column: string; reason: string; value: string }

/** The app shows at most this much of a rejects file; the file itself stays complete on disk. */
const MAX_BYTES = 64 * 1024 * 1024;

let cache: { key: string; rows: RejectRow[] } | undefined;

function load(file: string): RejectRow[] {
  let st: fs.Stats;
  try { st = fs.statSync(file); } catch { return []; }
  const key = `${file}:${st.size}:${st.mtimeMs}`;
  if (cache?.key === key) return cache.rows;
  const fd = fs.openSync(file, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(Math.min(st.size, MAX_BYTES));
    fs.readSync(fd, buf, 0, buf.length, 0);
    text = buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
  if (st.size > MAX_BYTES) text = text.slice(0, text.lastIndexOf('\n') + 1); // never show a cut-off record
  const records = parseCsv(text);
  const header = records.shift() ?? [];
  const at = (n: string) => header.indexOf(n);
  const [r, c, why, v] = [at('row'), at('column'), at('reason'), at('value')];
  if (r < 0 || why < 0) throw new OutpostError('input', 'not a rejects file (expected the columns row, column, reason, value)', { file });
  const rows = records.map((f) => ({ row: Number(f[r]), column: f[c] ?? '', reason: f[why] ?? '', value: f[v] ?? '' }));
  cache = { key, rows };
  return rows;
}

export function readRejects(file: string, offset: number, limit: number): { total: number; rows: RejectRow[] } {
  const rows = load(file);
  return { total: rows.length, rows: rows.slice(offset, offset + limit) };
}
