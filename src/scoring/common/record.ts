// Single records: one JSON object in, feeds for the graph out, and the graph's outputs back as the
// numbers `outpost predict` prints. The same cell rules (the JSONL decoder), validation
// (validate.ts) and output reading (outputs.ts) as file scoring. Shared by `outpost predict`
// (onnxruntime-node) and the app's what-if explorer (onnxruntime-web in the renderer), so both
// refuse the same records with the same messages and print the same numbers. Pure.
import { escapeControls } from '../../io/common/control-chars.ts';
import { formatFloat32 } from '../../io/common/float32-format.ts';
import { JsonlDecoder, parseJsonlLine, parseKeepingNumbers } from '../../io/common/jsonl-decoder.ts';
import type { ElemType } from '../../onnx/common/onnx.ts';
import type { Card } from '../../package/common/card.ts';
import { readOutputs, type ScoredColumns } from './outputs.ts';
import { columnRequests, validateBatch, type Feed } from './validate.ts';

export interface FieldError { field: string; reason: string; value: string }

/** The graph inputs as served: element type and rank per input name. */
export interface GraphInputs { types: ReadonlyMap<string, ElemType>; ranks: ReadonlyMap<string, number> }

export function graphInputs(inputs: readonly { name: string; type: string; shape: readonly unknown[] }[]): GraphInputs {
  return { types: new Map(inputs.map((i) => [i.name, i.type as ElemType])), ranks: new Map(inputs.map((i) => [i.name, i.shape.length])) };
}

export type RecordCheck = { ok: true; feeds: Record<string, Feed> } | { ok: false; errors: FieldError[] };

/**
 * Validate one JSON object given as text against the card; `line` numbers it in what the user gave
 * and `source` names where it came from (for the decoder's messages). Unknown fields are errors too.
 */
export function checkRecord(card: Card, graph: GraphInputs, text: string, line: number, source: string): RecordCheck {
  const bytes = new TextEncoder().encode(text);
  const parsed = parseJsonlLine(bytes, 0, bytes.length);
  if ('problem' in parsed) return { ok: false, errors: [{ field: '', reason: parsed.problem, value: '' }] };
  const names = card.inputs.map((f) => f.name);
  const errors = unknownFields(card, parsed.record);
  const decoder = new JsonlDecoder({ file: source, columns: names, request: columnRequests(card.inputs), batchRows: 1, offset: 0, rowsBefore: line - 1 });
  decoder.push(bytes);
  const batch = decoder.next(true)!;
  const v = validateBatch(batch, card.inputs, graph.types, graph.ranks, card.tensors);
  errors.push(...v.rejects.map((r) => ({ field: r.column, reason: r.reason, value: r.value })));
  if (errors.length) {
    const kept = parseKeepingNumbers(text);
    echoAsSent(errors, parsed.record, kept.numbersIn(kept.value));
  }
  return errors.length ? { ok: false, errors } : { ok: true, feeds: v.feeds };
}

/**
 * A refused record's errors as they are echoed to the sender: a field sent as a JSON number shows
 * the number as sent (`1E+39`, `9223372036854775808`), not the double it was read as (`1e+39`,
 * `9223372036854776000`); control characters in field, reason and value are written as escapes, as
 * in score's rejects file (control-chars.ts). `numbers`: the record's number texts
 * (parseKeepingNumbers), worked out only for a record that has errors.
 */
export function echoAsSent(errors: FieldError[], record: Record<string, unknown> | undefined, numbers: ReadonlyMap<string, string> | undefined): void {
  for (const e of errors) {
    const sent = record && Object.hasOwn(record, e.field) && typeof record[e.field] === 'number' ? numbers?.get(e.field) : undefined;
    e.value = escapeControls(sent ?? e.value);
    e.field = escapeControls(e.field);
    e.reason = escapeControls(e.reason);
  }
}

/** A record's keys the model does not take: each an error (records are not scored with them). */
export function unknownFields(card: Card, record: Record<string, unknown>): FieldError[] {
  const names = card.inputs.map((f) => f.name);
  const known = new Set(names);
  return Object.keys(record).filter((k) => !known.has(k))
    .map((k) => ({ field: k, reason: `unknown field (the model's inputs: ${names.join(', ')})`, value: JSON.stringify(record[k]) ?? '' }));
}

/** The JSON type each card input type takes in a strictly typed record (the local API's bodies). */
const JSON_TYPE = { float: 'number', int: 'number', bool: 'boolean', category: 'string' } as const;

/**
 * A record's values of the wrong JSON type, for callers that send typed JSON (the local scoring
 * API): a number input takes a JSON number, not "50"; a bool input true/false, not 1 or "yes"; a
 * category a string. null is left to validation (allowed where the input is nullable). Files and
 * `outpost predict` keep the JSONL cell rules (numeric strings, true/false as 1/0): exporters write those.
 */
export function recordTypeErrors(card: Card, record: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  for (const f of card.inputs) {
    if (!Object.hasOwn(record, f.name)) continue;
    const v = record[f.name];
    const want = JSON_TYPE[f.type];
    const got = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
    if (got === 'null' || got === want) continue;
    errors.push({ field: f.name, reason: `expected a JSON ${want} (the input is ${f.type}), got ${got === 'array' || got === 'object' ? 'an' : 'a'} ${got}`, value: (JSON.stringify(v) ?? '').slice(0, 200) });
  }
  return errors;
}

/** Feeds of several checked records stacked along the batch axis (one inference for all of them). */
export function stackFeeds(list: readonly Record<string, Feed>[]): Record<string, Feed> {
  const out: Record<string, Feed> = {};
  if (!list.length) return out;
  for (const name of Object.keys(list[0])) {
    const parts = list.map((f) => f[name]);
    const first = parts[0];
    const rows = parts.reduce((n, p) => n + p.dims[0], 0);
    const dims = [rows, ...first.dims.slice(1)];
    if (Array.isArray(first.data)) {
      out[name] = { type: first.type, data: parts.flatMap((p) => p.data as string[]), dims };
      continue;
    }
    const Ctor = (first.data as Float32Array).constructor as new (n: number) => Float32Array;
    const data = new Ctor(parts.reduce((n, p) => n + (p.data as Float32Array).length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p.data as Float32Array, at);
      at += (p.data as Float32Array).length;
    }
    out[name] = { type: first.type, data: data as Feed['data'], dims };
  }
  return out;
}

/**
 * One row's outputs as `outpost predict` reports them: the label and each class's probability, or
 * the value. Float32 outputs are the numbers whose shortest text is what `outpost score` writes.
 */
export interface RecordOutput { label?: string; probabilities?: Record<string, number>; value?: number }

const printed = (v: number, wide: boolean): number => (wide ? v : Number(formatFloat32(v)));

/** The graph's outputs (as returned for `rows` rows, tensors keyed by output name) read by the card. */
export function recordOutputs(card: Card, outputs: Record<string, Feed>, rows: number): RecordOutput[] {
  return printedOutputs(card, readOutputs(card, outputs, rows), rows);
}

/** Outputs already read by the card (readOutputs), one RecordOutput per row. */
export function printedOutputs(card: Card, scored: ScoredColumns, rows: number): RecordOutput[] {
  const res: RecordOutput[] = [];
  for (let i = 0; i < rows; i++) {
    if (scored.value) {
      res.push({ value: printed(scored.value[i], scored.value instanceof Float64Array) });
      continue;
    }
    const classes = card.outputs.classes!;
    const code = scored.labelCodes![i];
    res.push({
      label: classes[code] ?? String(code),
      ...(scored.probabilities ? { probabilities: Object.fromEntries(scored.probabilities.map((p, c) => [classes[c], printed(p[i], p instanceof Float64Array)])) } : {}),
    });
  }
  return res;
}
