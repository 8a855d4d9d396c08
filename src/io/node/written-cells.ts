// Cells of a batch as written in the file, for the few a reject echoes: a number cell is kept only
// as its double, and `1E39` or `9223372036854775808` would be shown as `1e+39` or
// `9223372036854776000` — not what the user finds with grep. Nothing is kept on the way in: the
// batch's rows are decoded again from where it started (ColumnBatch.start), the columns asked for
// requested as text. Costs a re-read of at most one batch per batch with such a reject.

import type { ColumnBatch, TableSource } from '../common/table.ts';

export interface CellAt {
  /** row index in the batch */
  row: number;
  column: string;
}

/**
 * Each cell's text as written (CSV: the field's text, unquoted; JSONL: a JSON number's text, a
 * string's value), or undefined where it cannot be read again. Parquet gives nothing: a double is
 * the stored value, and the one that is not (INT64 beyond ±(2^53 − 1)) came with its digits
 * (NumberColumn.exact) — decoding a row group again per batch would cost far more.
 */
export async function readWrittenCells(source: TableSource, batch: ColumnBatch, cells: readonly CellAt[]): Promise<(string | undefined)[]> {
  if (!cells.length || batch.start === undefined || source.format === 'parquet') return cells.map(() => undefined);
  const names = [...new Set(cells.map((c) => c.column))];
  const rows = Math.max(...cells.map((c) => c.row)) + 1;
  // optional: a JSONL key outside the sampled columns is read too
  const request = names.map((name) => ({ name, kind: 'string' as const, optional: true }));
  for await (const again of source.batches(request, { batchRows: rows, from: { offset: batch.start, row: batch.firstRow - 1 }, decodeThreads: 0 })) {
    return cells.map((c) => {
      const col = again.columns[names.indexOf(c.column)];
      return c.row < again.length && col.kind === 'string' ? (col.values[c.row] ?? undefined) : undefined;
    });
  }
  return cells.map(() => undefined);
}
