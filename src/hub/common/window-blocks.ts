// Dyadic window blocks for fleet drift (pure). A level-k block of a width (hour | day) covers the
// 2^k consecutive windows whose index (start ÷ window length) shares index >> k; level 0 is the
// window itself. Ingest merges every window delta into its blocks of levels 1..maxLevel, so any run
// of windows [lo, hi] is the exact merge of at most ~2·maxLevel + (hi − lo) / 2^maxLevel stored
// pieces (`coverRange`) instead of one per window. Merging is exact and order-independent
// (src/drift), so a merge of pieces equals the merge of the windows, byte for byte.
import { WINDOW_MS, type WindowWidth } from '../../monitor/common/windows.ts';

/** The highest block level kept per width (0: windows only). Day: blocks of 2, 4, 8, 16 and 32 days. */
export const BLOCK_LEVELS: Readonly<Record<WindowWidth, number>> = { day: 5, hour: 0 };

export interface BlockPiece { level: number; start: number }

/** The start (epoch ms) of the level-`level` block holding the window starting at `start`. */
export function blockStart(width: WindowWidth, level: number, start: number): number {
  const span = WINDOW_MS[width] * 2 ** level;
  return Math.floor(start / span) * span;
}

/**
 * The fewest aligned blocks (levels 0..maxLevel) that exactly tile the windows whose starts are in
 * [lo, hi] (both window starts of `width`), in time order. Empty when hi < lo.
 */
export function coverRange(width: WindowWidth, lo: number, hi: number, maxLevel = BLOCK_LEVELS[width]): BlockPiece[] {
  const w = WINDOW_MS[width];
  if (!Number.isSafeInteger(lo / w) || !Number.isSafeInteger(hi / w)) throw new RangeError(`window starts must be multiples of the ${width} length`);
  const out: BlockPiece[] = [];
  for (let i = lo / w, last = hi / w; i <= last;) {
    let k = 0;
    while (k < maxLevel && ((i % 2 ** (k + 1)) + 2 ** (k + 1)) % 2 ** (k + 1) === 0 && i + 2 ** (k + 1) - 1 <= last) k++;
    out.push({ level: k, start: i * w });
    i += 2 ** k;
  }
  return out;
}
