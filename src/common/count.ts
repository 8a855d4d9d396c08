// Whole numbers with thousands separators, as `n.toLocaleString('en-US')` writes them ("1,234,567"),
// without it: the first toLocaleString of a process initialises ICU's locale data, ~24 ms of CPU
// here — a tenth of a small `outpost score`'s own work, spent printing its summary. Pure.

/** `n.toLocaleString('en-US')`, written out for safe integers (the same text; others go to it). */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 || Object.is(n, -0) ? `-${out}` : out;
}

/** "1 item", "7 items", "1,024 batches": a count and its noun (plural with -s/-es). */
export function countOf(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : /(s|sh|ch|x)$/.test(noun) ? 'es' : 's'}`;
}
