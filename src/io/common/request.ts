// Maps a consumer's column request onto a file's columns. All missing names are reported in one
// error, before any row is read, so a user fixes the file (or the model) once, not name by name.
// A name the file has twice (a header that repeats a column) may be read only if nobody asks for
// it: which of the two was meant cannot be known.

import { OutpostError } from '../../common/errors.ts';
import { escapeControls } from './control-chars.ts';
import type { ColumnRequest } from './table.ts';

/** A column name the file has more than once, with its 1-based positions. */
export interface RepeatedColumn { name: string; positions: number[] }

/** The names `columns` holds more than once, in order of first appearance. */
export function repeatedColumns(columns: readonly string[]): RepeatedColumn[] {
  const at = new Map<string, number[]>();
  columns.forEach((name, i) => {
    const list = at.get(name);
    if (list) list.push(i + 1);
    else at.set(name, [i + 1]);
  });
  return [...at].filter(([, positions]) => positions.length > 1).map(([name, positions]) => ({ name, positions }));
}

/** `"x" (columns 2 and 4)` */
export function describeRepeated(r: RepeatedColumn): string {
  const list = r.positions.length === 2 ? r.positions.join(' and ') : `${r.positions.slice(0, -1).join(', ')} and ${r.positions[r.positions.length - 1]}`;
  return `"${escapeControls(r.name)}" (columns ${list})`;
}

/**
 * The columns `columns` names more than once, where none of them is one `read` names: a repeat that
 * is read is refused (which of the two was meant cannot be known); the others are returned.
 */
export function unreadRepeats(file: string, columns: readonly string[], read: ReadonlySet<string>): RepeatedColumn[] {
  const repeated = repeatedColumns(columns);
  const ambiguous = repeated.filter((r) => read.has(r.name));
  if (ambiguous.length > 0) {
    const one = ambiguous.length === 1;
    throw new OutpostError('input', `${one ? 'column' : 'columns'} ${ambiguous.map(describeRepeated).join(', ')} ${one ? 'appears' : 'appear'} more than once in the file: which one to read cannot be known; rename or remove the repeats`, { file }, { repeated: ambiguous.map((r) => r.name) });
  }
  return repeated;
}

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
  unreadRepeats(file, fileColumns, new Set(request.map((r) => r.name)));
  if (missing.length > 0) {
    const list = missing.map((m) => `"${m}"`).join(', ');
    // quoted, so that stray spaces in header names ("id, value") are visible
    const shown = fileColumns.slice(0, 20).map((c) => escapeControls(JSON.stringify(c))).join(', ');
    const has = fileColumns.length > 20 ? `${shown}, … (${fileColumns.length} in all)` : shown;
    throw new OutpostError('input', `${missing.length === 1 ? 'column' : 'columns'} ${list} not found (the file has: ${has})`, { file }, { missing });
  }
  return fields;
}
