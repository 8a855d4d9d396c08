// Matching a string literally inside a SQL LIKE pattern, on SQLite and PostgreSQL alike.

/** `s` matched literally inside a LIKE pattern written with LIKE_ESCAPE: `_`, `%` and `\` are not wildcards. */
export const likeLiteral = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The ESCAPE clause for patterns built with likeLiteral: the same spelling on SQLite and PostgreSQL (standard_conforming_strings). */
export const LIKE_ESCAPE = "ESCAPE '\\'";
