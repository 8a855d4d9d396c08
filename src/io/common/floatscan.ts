// The benchmark baseline for the CSV reader: the least work that still turns numeric CSV bytes into
// doubles. It splits on the delimiter and newlines, parses every field with the reader's own float
// scanner (so the comparison measures the reader's overhead, not a different float algorithm) and
// sums the values. No quoting, no validation, no columns, no row accounting.

import { scanDecimal, scanned } from './decimal.ts';

export interface FloatScanResult { sum: number; fields: number; lines: number }

/** Sum every field of bytes[start, end) parsed as a float. `skipFirstLine` skips a header. */
export function scanFloats(bytes: Uint8Array, delimiter: number, skipFirstLine: boolean): FloatScanResult {
  const end = bytes.length;
  let p = 0;
  if (skipFirstLine) { while (p < end && bytes[p] !== 0x0a) p++; p++; }
  // the sum lives in a typed array: a double local carried around this long loop can end up boxed
  // (one allocation per field) when V8 compiles the loop on-stack, which would slow the baseline
  const sum = new Float64Array(1);
  let fields = 0;
  let lines = 0;
  while (p < end) {
    p = scanDecimal(bytes, p, end);
    if (p < 0) p = -p - 1;
    sum[0] += scanned[0];
    fields++;
    // p is at the delimiter or the line end
    if (p < end && bytes[p] === 0x0d) p++;
    if (p < end && bytes[p] === 0x0a) lines++;
    p++;
  }
  return { sum: sum[0], fields, lines };
}
