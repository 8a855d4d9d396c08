// Why a number cell is refused, in one wording for every way a row comes in: CSV, JSONL and
// Parquet files, `outpost predict` and the scoring API. Readers call unparsableNumberReason on the
// path where they already know a cell is not a plain finite number, so valid cells cost nothing.
// Pure.

import { MAX_NUMBER_CHARS } from './decimal.ts';

/** A number text or JSON number beyond what a double holds ("1e400"): Number() gives ±Infinity. */
export const TOO_LARGE_FOR_DOUBLE = 'number too large for a double (beyond ±1.8e308)';
/** A finite double that a float32 model input would get as ±Infinity ("1e39"). */
export const TOO_LARGE_FOR_FLOAT32 = 'number too large for float32, the type of the model input (beyond ±3.4e38)';
/** An infinity spelled out (`inf`, `-Infinity`) or stored as one (a Parquet float): never fed to a model. */
export const NOT_FINITE = 'not a finite number (infinity)';

/** The reason given for a number cell longer than any number text. */
export const tooLongReason = (chars: number): string => `${chars.toLocaleString('en-US')} characters is too long for a number (at most ${MAX_NUMBER_CHARS.toLocaleString('en-US')})`;

/** The reason for an unparsable cell with no more specific one. */
export const cannotParseReason = (text: string): string => `cannot parse ${JSON.stringify(text)} as a number`;

const INFINITY_TEXT = /^[ \t]*[+-]?inf(?:inity)?[ \t]*$/i;

/**
 * Why a number cell of `chars` characters is unparsable, where there is more to say than "cannot
 * parse": too long, beyond a double (`value`, what the decimal parser gave, is ±Infinity) or an
 * infinity spelled out. `text` is the cell's text (its start is enough). Undefined otherwise.
 */
export function unparsableNumberReason(text: string, value: number, chars: number): string | undefined {
  if (chars > MAX_NUMBER_CHARS) return tooLongReason(chars);
  if (value === Infinity || value === -Infinity) return TOO_LARGE_FOR_DOUBLE;
  if (chars <= 11 && INFINITY_TEXT.test(text)) return NOT_FINITE;
  return undefined;
}

/** Largest double that float32 rounds to a finite value (the next one, 2^128 − 2^103, rounds to Infinity). */
export const FLOAT32_LIMIT = 2 ** 128 - 2 ** 103 - 2 ** 75;

/** Integers an int32 model input holds; beyond them a value would wrap around. */
export const INT32_RANGE = { min: -(2 ** 31), max: 2 ** 31 - 1 } as const;
/**
 * Integers an int64 model input is given: readers parse numbers as doubles, which hold every
 * integer exactly only up to 2^53 − 1, so a larger one (which may have been rounded on the way in)
 * is refused rather than passed on altered.
 */
export const INT64_RANGE = { min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER } as const;
export const outOfRangeReason = (type: 'int32' | 'int64'): string => type === 'int32'
  ? 'number out of range for int32, the type of the model input (-2147483648 to 2147483647)'
  : 'number out of range for an int64 model input as Outpost reads it (-9007199254740991 to 9007199254740991: numbers are read as doubles, exact up to 2^53 - 1)';
