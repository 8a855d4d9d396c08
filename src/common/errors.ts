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
