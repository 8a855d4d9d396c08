// Every positive float32 of a bit-pattern range through the CSV/JSONL float32 writer
// (src/io/common/byte-builder.ts) and through the writer as it was before the search reorder and
// the division-free checks (test/helpers/float32-before.ts); prints any value whose bytes differ.
//   node scripts/float32-exhaustive.ts [fromBits [toBits]]   (hex or decimal)
// The default range, 0x2833f6be (9.99e-15) … 0x6407a92b (1.001e22), is every value the digit
// search handles (1e-14 ≤ |x| < 1e22, with a margin): 1.0 billion values, a few minutes on an idle
// core. Outside it both writers call the same toPrecision-based code (tens of µs per value there,
// so the whole space, 0x1 … 0x7f800000, takes hours). Negative values are the same text with a
// leading "-" in both; zero, NaN and the infinities take a shared path. The unit test
// (test/io-float32.test.ts) covers millions of values of every kind.
import { ByteBuilder } from '../src/io/common/byte-builder.ts';
import { ByteBuilderBefore } from '../test/helpers/float32-before.ts';

const from = Number(process.argv[2] ?? 0x2833f6be);
const to = Number(process.argv[3] ?? 0x6407a92b);
if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to <= 0x7f800000 && from < to)) {
  console.error('usage: node scripts/float32-exhaustive.ts [fromBits [toBits]] with 0 ≤ fromBits < toBits ≤ 0x7f800000');
  process.exit(2);
}
const now = new ByteBuilder(64);
const before = new ByteBuilderBefore(64);
const bits = new Uint32Array(1);
const f32 = new Float32Array(bits.buffer);
let differ = 0;
const started = Date.now();
for (let b = from; b < to; b++) {
  bits[0] = b;
  const v = f32[0];
  now.pos = 0;
  before.pos = 0;
  now.float32(v);
  before.float32(v);
  let same = now.pos === before.pos;
  for (let i = 0; same && i < now.pos; i++) same = now.buf[i] === before.buf[i];
  if (!same) {
    differ++;
    if (differ <= 20) console.log(`0x${b.toString(16)} ${v}: ${new TextDecoder().decode(now.bytes())} vs before ${new TextDecoder().decode(before.bytes())}`);
  }
  if ((b & 0xffffff) === 0) console.error(`0x${b.toString(16)} (${((b - from) / (to - from) * 100).toFixed(1)} %, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
console.log(JSON.stringify({ from: `0x${from.toString(16)}`, to: `0x${to.toString(16)}`, values: to - from, differ, seconds: (Date.now() - started) / 1000 }));
process.exit(differ ? 1 : 0);
