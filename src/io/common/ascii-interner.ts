// Short ASCII cell texts made into strings once while they keep recurring. A category column
// repeats a handful of values millions of times; building each cell's string from its bytes (an
// allocation per cell, then hashing it again in every Set or Map lookup downstream) costs more
// than comparing the bytes with the string the same slot made last time. Unique values (ids) just
// replace their slot: a few byte comparisons per cell.

import { asciiText } from './decimal.ts';

const SLOTS = 256;

export class AsciiInterner {
  private readonly slots: string[] = new Array<string>(SLOTS).fill('');

  /** bytes[start, end) (ASCII, not empty) as a string; the same string object for the same text in a row. */
  text(bytes: Uint8Array, start: number, end: number): string {
    const n = end - start;
    const slot = (n * 31 + bytes[start] * 17 + bytes[end - 1] * 7 + bytes[start + (n >> 1)]) & (SLOTS - 1);
    const cached = this.slots[slot];
    if (cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === bytes[start + i]) i++;
      if (i === n) return cached;
    }
    const s = asciiText(bytes, start, end);
    this.slots[slot] = s;
    return s;
  }
}
