// The error codes every HTTP server of Outpost answers a malformed request with — the hub, and
// `outpost serve` (the UI's /api/call and the scoring API's /v1) — one code per kind of mistake,
// so a client reads the same code for the same mistake whichever server it talks to:
//   400 usage                   a bad query value, a bad path parameter, a body field of the wrong
//                               type, an unknown body field, a body that is not (UTF-8) JSON
//   413 too-large               a body over the route's limit
//   415 unsupported-media-type  a body of a content type the route does not read
// A request that is well formed but whose content is wrong keeps its own code (422 validation,
// 409 conflict, the hub's 400 input for signed metadata that does not check out …). Pure.

export type RequestErrorCode = 'usage' | 'too-large' | 'unsupported-media-type';

/** The code of a refused request by its HTTP status (any other 4xx a request's form earns is `usage`). */
export function requestErrorCode(status: number): RequestErrorCode {
  return status === 413 ? 'too-large' : status === 415 ? 'unsupported-media-type' : 'usage';
}

/** A malformed request refused with `statusCode` (Fastify's convention; the hub's error handler reads it). */
export class RequestRefusal extends Error {
  readonly statusCode: number;
  readonly code: RequestErrorCode;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = requestErrorCode(statusCode);
  }
}
