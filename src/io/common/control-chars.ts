// Control characters in text a person reads: the rejects file echoes cells and reasons, and a raw
// NUL, ESC or backspace there would garble a terminal (or end a C string in a tool reading it).
// They are written as JSON writes them (\t, \n, \r, \u001b) — the way the reasons already quote
// values. Pure.

/** C0 controls, DEL and C1 controls (U+0080–U+009F, which some terminals also act on). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** The text with each control character written as an escape (`\n`, `\u0000`); the text itself when it has none. */
export function escapeControls(text: string): string {
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROLS, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
