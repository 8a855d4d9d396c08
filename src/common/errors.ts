// Typed errors (tuf-js style): every failure the user can meet carries a stable code, the exit
// status the CLI returns for it, and where it happened (file, row, field) when that is known.

export type ErrorCode =
  | 'usage'            // bad command line: exit 2
  | 'input'            // bad input file or value
  | 'package'          // model package invalid, or card and graph disagree
  | 'not-found'        // model, version or job unknown
  | 'provider'         // execution provider unavailable
  | 'store'            // local database problem
  | 'cancelled'        // stopped by the user; resumable
  | 'reject-rate'      // too many bad rows
  | 'conflict';        // e.g. a version already installed

export interface ErrorLocation {
  file?: string;
  row?: number;
  field?: string;
}

export class OutpostError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, location: ErrorLocation = {}, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'OutpostError';
    this.code = code;
    this.location = location;
    this.details = details;
  }

  get exitCode(): number {
    return this.code === 'usage' ? 2 : 1;
  }

  /** One line: "file:row: field: message" with whichever parts are known. */
  describe(): string {
    const where = [this.location.file, this.location.row !== undefined ? `row ${this.location.row}` : undefined, this.location.field !== undefined ? `column "${this.location.field}"` : undefined]
      .filter((p) => p !== undefined)
      .join(', ');
    return where ? `${where}: ${this.message}` : this.message;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.location, ...(Object.keys(this.details).length ? { details: this.details } : {}) };
  }
}

export const usageError = (message: string): OutpostError => new OutpostError('usage', message);

/**
 * Characters a message must not pass to a terminal or a log verbatim: C0 and C1 controls (escape
 * sequences, carriage returns, newlines that forge log lines), the line and paragraph separators,
 * and the bidirectional marks, embeddings, overrides and isolates that reorder what is shown, and
 * unpaired surrogates.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A name or value a user or a request supplied, for a message: in double quotes, `"` and `\`
 * backslash-escaped and every unsafe character as \uXXXX — what is printed is exactly what was
 * sent, with nothing hidden or reordered (`no model "\u202e"`).
 */
export function quote(value: string): string {
  const escaped = value.replace(/[\\"]/g, '\\$&').replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${escaped}"`;
}
