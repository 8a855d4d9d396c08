// Why required columns were not found, in words a user can act on (pure): a header that is one
// long name holding ';' or '|' was read with the wrong delimiter; a header that differs from a
// required name only by case, spaces or '_'/'-' is named as the near match.

const normalise = (name: string): string => name.toLowerCase().replace(/[\s_-]+/g, '');

export function missingColumnHints(fileColumns: readonly string[], missing: readonly string[], format: string): string[] {
  const hints: string[] = [];
  if (format === 'csv') {
    const joined = fileColumns.join(',');
    for (const d of [';', '|', '\t']) {
      if (fileColumns.length <= 2 && joined.split(d).length > 2) {
        hints.push(`the header looks ${d === '\t' ? 'tab' : `"${d}"`}-separated: pass --delimiter ${d === '\t' ? "'\\t'" : `'${d}'`}`);
        break;
      }
    }
  }
  const byNorm = new Map<string, string>();
  for (const c of fileColumns) if (!byNorm.has(normalise(c))) byNorm.set(normalise(c), c);
  const near = missing.map((m) => [m, byNorm.get(normalise(m))] as const).filter((x): x is readonly [string, string] => x[1] !== undefined);
  if (near.length) hints.push(`near matches (names must match exactly, case and spaces included): ${near.map(([want, got]) => `file ${JSON.stringify(got)} for ${JSON.stringify(want)}`).join(', ')}`);
  return hints;
}
