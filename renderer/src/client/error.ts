import type { ApiErrorShape } from '../../../src/api/common/contract.ts';

/** A failed call, as the core described it (code, message, and where: file, row, field). */
export class ApiError extends Error {
  readonly code: ApiErrorShape['code'];
  readonly file?: string;
  readonly row?: number;
  readonly field?: string;
  constructor(e: ApiErrorShape) {
    super(e.message);
    this.name = 'ApiError';
    this.code = e.code;
    if (e.file !== undefined) this.file = e.file;
    if (e.row !== undefined) this.row = e.row;
    if (e.field !== undefined) this.field = e.field;
  }
}
