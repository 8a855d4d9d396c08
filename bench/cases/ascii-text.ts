// Building string cells from bytes (the CSV reader's ids and categories, src/io/common/decimal.ts
// asciiText): one String.fromCharCode.apply over a reused array of char codes ÷ appending char by
// char (the code it replaced, kept here as the baseline), on the id and season cells of the demo-
// shaped file (the throughput case's), CPU time, alternating runs, results checked equal.
import fs from 'node:fs';
import { asciiText } from '../../src/io/common/decimal.ts';
import { demoCsv } from './throughput.ts';

function charByChar(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(opts: { rows: number; runs: number }) {
  const bytes = new Uint8Array(fs.readFileSync(demoCsv(opts.rows)));
  // cell spans of the id (first) and season (last) columns, header skipped
  const spans: number[] = [];
  let p = bytes.indexOf(0x0a) + 1;
  while (p < bytes.length) {
    const comma = bytes.indexOf(0x2c, p);
    const eol = bytes.indexOf(0x0a, p);
    spans.push(p, comma, bytes.lastIndexOf(0x2c, eol) + 1, eol);
    p = eol + 1;
  }
  const cells = spans.length / 2;
  const out: string[] = new Array(cells);
  const pass = (make: (b: Uint8Array, s: number, e: number) => string) => () => {
    const t0 = process.threadCpuUsage();
    for (let k = 0, j = 0; k < spans.length; k += 2) out[j++] = make(bytes, spans[k], spans[k + 1]);
    const t = process.threadCpuUsage(t0);
    return (t.user + t.system) / 1000;
  };
  for (let k = 0; k < spans.length; k += 2) if (asciiText(bytes, spans[k], spans[k + 1]) !== charByChar(bytes, spans[k], spans[k + 1])) throw new Error('texts differ');
  const ms = { now: [] as number[], before: [] as number[] };
  for (let i = 0; i < opts.runs; i++) {
    if (i % 2) { ms.before.push(pass(charByChar)()); ms.now.push(pass(asciiText)()); }
    else { ms.now.push(pass(asciiText)()); ms.before.push(pass(charByChar)()); }
  }
  return {
    cells, runs: opts.runs,
    nsPerCell: { now: (median(ms.now) * 1e6) / cells, before: (median(ms.before) * 1e6) / cells },
    nowOverBefore: median(ms.now) / median(ms.before),
    runsMs: ms,
  };
}
