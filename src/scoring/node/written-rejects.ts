// A reject of a number that parsed but was refused (validate.ts marks it `parsed`) shows the cell
// as written in the file, read again from the source (io/node/written-cells.ts), not the double.

import type { ColumnBatch, TableSource } from '../../io/common/table.ts';
import { readWrittenCells } from '../../io/node/written-cells.ts';
import type { Reject } from '../common/validate.ts';

/**
 * Give `parsed` rejects of `batch` the cells' text as written (and drop the mark). Where the cells
 * cannot be read again, the double stays: a job does not fail for how a reject is shown.
 */
export async function showWritten(source: TableSource, batch: ColumnBatch, rejects: Reject[]): Promise<void> {
  const parsed = rejects.filter((r) => r.parsed);
  if (!parsed.length) return;
  const texts = await readWrittenCells(source, batch, parsed.map((r) => ({ row: r.row - batch.firstRow, column: r.column }))).catch(() => []);
  parsed.forEach((r, k) => {
    if (texts[k] !== undefined) r.value = texts[k];
    delete r.parsed;
  });
}
