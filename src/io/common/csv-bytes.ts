// Byte constants of the CSV syntax, and which delimiters the number fast path can live with.

export const LF = 0x0a;
export const CR = 0x0d;
export const QUOTE = 0x22;

/**
 * The delimiter as a byte. It must be one ASCII character that cannot occur inside an unquoted
 * number or be confused with line breaks and quoting: not a letter, digit, space, `"`, `.`, `+`,
 * `-`, CR or LF. Returns undefined for anything else.
 */
export function delimiterByte(delimiter: string): number | undefined {
  if (delimiter.length !== 1) return undefined;
  const c = delimiter.charCodeAt(0);
  if (c >= 0x80 || /[A-Za-z0-9 ".+\-\r\n]/.test(delimiter) || c === 0) return undefined;
  return c;
}
