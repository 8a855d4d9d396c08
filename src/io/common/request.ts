// Maps a consumer's column request onto a file's columns. All missing names are reported in one
// error, before any row is read, so a user fixes the file (or the model) once, not name by name.

import { OutpostError } from '../../common/errors.ts';
import type { ColumnRequest } from './table.ts';

/** Index into `fileColumns` of each requested column, in request order. */
export function resolveRequest(file: string, fileColumns: readonly string[], request: readonly ColumnRequest[], sampledColumns = false): number[] {
  const index = new Map<string, number>();
  fileColumns.forEach((name, i) => { if (!index.has(name)) index.set(name, i); });
  const seen = new Set<string>();
  const missing: string[] = [];
  const fields: number[] = [];
  for (const { name, optional } of request) {
    // a programming error in the caller, not a problem with the user's file
    if (seen.has(name)) throw new Error(`column "${name}" requested twice`);
    seen.add(name);
    const i = index.get(name);
    if (i === undefined && !(sampledColumns && optional)) missing.push(name);
    fields.push(i ?? -1);
  }
  if (missing.length > 0) {
    const list = missing.map((m) => `"${m}"`).join(', ');
    // quoted, so that stray spaces in header names ("id, value") are visible
    const shown = fileColumns.slice(0, 20).map((c) => JSON.stringify(c)).join(', ');
    const has = fileColumns.length > 20 ? `${shown}, … (${fileColumns.length} in all)` : shown;
    throw new OutpostError('input', `${missing.length === 1 ? 'column' : 'columns'} ${list} not found (the file has: ${has})`, { file }, { missing });
  }
  return fields;
}
