// The Parquet sink's encoding before its own chunk encoder (src/io/node/parquet-sink.ts at 9b966db,
// verbatim where it shaped the bytes): each batch's columns converted to hyparquet-writer data
// (NaN → null, INT64 as bigints, dictionary codes as strings), concatenated per row group and
// written by hyparquet-writer's ParquetWriter with the same options. test/io-parquet-encode.test.ts
// compares the sink's files with this byte for byte; bench/cases/parquet.ts times the two.
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { dictValue } from '../../src/io/common/out-schema.ts';
import type { OutColumn, OutputBatch } from '../../src/io/common/table.ts';
import { utf8Strings } from '../../src/io/common/utf8-cells.ts';

type Physical = 'FLOAT' | 'DOUBLE' | 'INT32' | 'INT64' | 'STRING';
type ColumnValues = Float32Array | Float64Array | Int32Array | (number | bigint | string | null)[];

function schemaElement(name: string, physical: Physical): SchemaElement {
  if (physical === 'STRING') return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'OPTIONAL' };
  return { name, type: physical, repetition_type: 'OPTIONAL' };
}

function physicalOf(column: OutColumn): Physical {
  switch (column.type) {
    case 'float32': return 'FLOAT';
    case 'float64': return 'DOUBLE';
    case 'int': return column.values instanceof Int32Array ? 'INT32' : 'INT64';
    default: return 'STRING';
  }
}

function columnValues(column: OutColumn, physical: Physical, rows: number): ColumnValues {
  if (column.type === 'string') return column.values.slice(0, rows);
  if (column.type === 'utf8') return utf8Strings(column, rows);
  if (column.type === 'dict') {
    const out = new Array<string | null>(rows);
    for (let i = 0; i < rows; i++) out[i] = dictValue(column.dictionary, column.codes[i]);
    return out;
  }
  const v = column.values;
  if (physical === 'INT64') {
    const out = new Array<bigint | null>(rows);
    for (let i = 0; i < rows; i++) {
      if (v[i] === v[i] && !Number.isInteger(v[i])) throw new Error(`output column "${column.name}": ${v[i]} is not an integer`);
      out[i] = v[i] !== v[i] ? null : BigInt(v[i]);
    }
    return out;
  }
  if (physical === 'INT32' && !(v instanceof Int32Array)) {
    const out = new Array<number | null>(rows);
    for (let i = 0; i < rows; i++) {
      if (v[i] === v[i] && (v[i] !== (v[i] | 0))) throw new Error(`output column "${column.name}": ${v[i]} is not a 32-bit integer`);
      out[i] = v[i] !== v[i] ? null : v[i];
    }
    return out;
  }
  let hasNaN = false;
  for (let i = 0; i < rows && !hasNaN; i++) hasNaN = v[i] !== v[i];
  if (!hasNaN) {
    if (physical === 'FLOAT') return Float32Array.from(v.subarray(0, rows));
    if (physical === 'DOUBLE') return Float64Array.from(v.subarray(0, rows));
    return Int32Array.from(v.subarray(0, rows));
  }
  const out = new Array<number | null>(rows);
  for (let i = 0; i < rows; i++) out[i] = v[i] !== v[i] ? null : v[i];
  return out;
}

function concatValues(parts: ColumnValues[]): ColumnValues {
  if (parts.length === 1) return parts[0];
  if (parts.every((p) => p instanceof Float32Array)) return concatTyped(parts as Float32Array[], Float32Array);
  if (parts.every((p) => p instanceof Float64Array)) return concatTyped(parts as Float64Array[], Float64Array);
  if (parts.every((p) => p instanceof Int32Array)) return concatTyped(parts as Int32Array[], Int32Array);
  const out = new Array<number | bigint | string | null>(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) out[at++] = p[i];
  return out;
}

function concatTyped<T extends Float32Array | Float64Array | Int32Array>(parts: T[], Kind: { new (n: number): T }): T {
  const out = new Kind(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * What the old sink wrote for this sequence: batches, and 'checkpoint' where the sink was asked for
 * one (it closes the row group being built). A row group closes once it holds ≥ rowGroupRows rows.
 */
export async function referenceParquet(steps: readonly (OutputBatch | 'checkpoint')[], rowGroupRows: number): Promise<Uint8Array> {
  const bytes = new ByteWriter();
  let writer: ParquetWriter | null = null;
  let names: string[] = [];
  let physical: Physical[] = [];
  let pending: ColumnValues[][] = [];
  let pendingRows = 0;
  const flush = () => {
    if (pendingRows === 0 || writer === null) return;
    const columnData: ColumnSource[] = names.map((name, i) => ({ name, data: concatValues(pending.map((p) => p[i])), offsetIndex: false, columnIndex: false }));
    writer.write({ columnData, rowGroupSize: pendingRows });
    pending = [];
    pendingRows = 0;
  };
  for (const step of steps) {
    if (step === 'checkpoint') {
      flush();
      continue;
    }
    if (writer === null) {
      names = step.columns.map((c) => c.name);
      physical = step.columns.map(physicalOf);
      const schema: SchemaElement[] = [{ name: 'root', num_children: names.length }, ...names.map((n, i) => schemaElement(n, physical[i]))];
      writer = new ParquetWriter({ writer: bytes, schema, createdBy: 'outpost' });
    }
    if (step.length === 0) continue;
    pending.push(step.columns.map((c, i) => columnValues(c, physical[i], step.length)));
    pendingRows += step.length;
    if (pendingRows >= Math.max(1, rowGroupRows)) flush();
  }
  flush();
  writer ??= new ParquetWriter({ writer: bytes, schema: [{ name: 'root', num_children: 0 }], createdBy: 'outpost' });
  await writer.finish();
  return new Uint8Array(bytes.getBuffer());
}
