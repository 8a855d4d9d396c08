// Recognise text files in an encoding the readers do not take (pure): UTF-16 (with or without a
// byte-order mark — Excel's "Unicode text" and PowerShell's default) would otherwise be called
// binary because of its NUL bytes. UTF-8, with or without a BOM, is what the readers read.

export function utf16Kind(prefix: Uint8Array): 'UTF-16LE' | 'UTF-16BE' | undefined {
  if (prefix.length >= 2 && prefix[0] === 0xff && prefix[1] === 0xfe) return 'UTF-16LE';
  if (prefix.length >= 2 && prefix[0] === 0xfe && prefix[1] === 0xff) return 'UTF-16BE';
  // no BOM: ASCII-range text in UTF-16 has a NUL in every other byte
  const n = Math.min(prefix.length, 4096) & ~1;
  if (n < 8) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (prefix[i] === 0) evenNul++;
    if (prefix[i + 1] === 0) oddNul++;
  }
  const pairs = n / 2;
  if (oddNul >= pairs * 0.9 && evenNul <= pairs * 0.1) return 'UTF-16LE';
  if (evenNul >= pairs * 0.9 && oddNul <= pairs * 0.1) return 'UTF-16BE';
  return undefined;
}

export const utf16Message = (kind: string): string => `the file is ${kind} text: save it as UTF-8 (e.g. Excel: Save As → "CSV UTF-8"; or iconv -f ${kind} -t UTF-8) and try again`;
