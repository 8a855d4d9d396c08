// A small RFC 4180 reader for the files the app itself shows (the rejects file: row, column,
// reason, value). Quoted fields may hold commas, quotes ("") and line breaks. Pure.

/** Parse CSV text into records (the header included). A trailing line break adds no record. */
export function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let rec: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let any = false; // the current record has started
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      field += ch; i++; continue;
    }
    if (ch === '"') { quoted = true; any = true; i++; continue; }
    if (ch === ',') { rec.push(field); field = ''; any = true; i++; continue; }
    if (ch === '\r' || ch === '\n') {
      if (any || field) { rec.push(field); out.push(rec); }
      rec = []; field = ''; any = false;
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += ch; any = true; i++;
  }
  if (any || field) { rec.push(field); out.push(rec); }
  return out;
}
