// The shape of a sink's output: column names and types, fixed by the first batch written (and
// stored in checkpoints) so that every later batch, also after a resume, must match it.

import type { OutColumn, OutputBatch } from './table.ts';

/** A column's type in a file's schema: strings are 'string' whether given as strings or as UTF-8 bytes. */
export type OutType = Exclude<OutColumn['type'], 'utf8'>;
export interface OutField { name: string; type: OutType }

const fieldType = (c: OutColumn): OutType => (c.type === 'utf8' ? 'string' : c.type);

export function schemaOf(batch: OutputBatch): OutField[] {
  return batch.columns.map((c) => ({ name: c.name, type: fieldType(c) }));
}

/** Throws (a programming error, not bad user input) unless the batch fits the schema. */
export function checkBatch(schema: readonly OutField[], batch: OutputBatch): void {
  const names = new Set<string>();
  for (const c of batch.columns) {
    if (names.has(c.name)) throw new Error(`output column "${c.name}" appears twice`);
    names.add(c.name);
  }
  if (batch.columns.length !== schema.length || batch.columns.some((c, i) => c.name !== schema[i].name || fieldType(c) !== schema[i].type)) {
    const describe = (fs: readonly OutField[]) => fs.map((f) => `${f.name}:${f.type}`).join(', ');
    throw new Error(`output batch columns (${describe(schemaOf(batch))}) differ from the file's (${describe(schema)})`);
  }
  for (const c of batch.columns) {
    const length = c.type === 'dict' ? c.codes.length : c.type === 'utf8' ? c.starts.length : c.values.length;
    if (length < batch.length) throw new Error(`output column "${c.name}" has ${length} values for ${batch.length} rows`);
  }
}

/** dictionary[code], or null for a code outside the dictionary (e.g. -1 for "no prediction"). */
export function dictValue(dictionary: readonly string[], code: number): string | null {
  return code >= 0 && code < dictionary.length ? dictionary[code] : null;
}
