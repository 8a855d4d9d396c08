// The error codes every HTTP server of Outpost answers a malformed request with — the hub, and
// `outpost serve` (the UI's /api/call and the scoring API's /v1) — one code per kind of mistake,
// so a client reads the same code for the same mistake whichever server it talks to:
//   400 usage                   a bad query value, a bad path parameter, a body field of the wrong
//                               type, an unknown body field, a body that is not (UTF-8) JSON; on
//                               an API route, a query parameter it does not take or one given
//                               twice (queryProblem: pages and static files ignore query strings)
//   413 too-large               a body over the route's limit
//   405 method-not-allowed      a method the path does not take (a path no method takes is 404);
//                               the answer's Allow header lists the ones it does. A path that
//                               takes GET answers HEAD like GET, without the body.
//   415 unsupported-media-type  a body of a content type the route does not read
// A request that is well formed but whose content is wrong keeps its own code (422 validation,
// 409 conflict, the hub's 400 input for signed metadata that does not check out …). Pure.

import { quote } from '../../common/errors.ts';

export type RequestErrorCode = 'usage' | 'method-not-allowed' | 'too-large' | 'unsupported-media-type';

/** The code of a refused request by its HTTP status (any other 4xx a request's form earns is `usage`). */
export function requestErrorCode(status: number): RequestErrorCode {
  return status === 405 ? 'method-not-allowed' : status === 413 ? 'too-large' : status === 415 ? 'unsupported-media-type' : 'usage';
}

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The methods a path takes, in one order, HEAD added wherever GET is (both servers answer it like GET). */
export function allowedMethods(methods: Iterable<string>): string[] {
  const set = new Set(methods);
  if (set.has('GET')) set.add('HEAD');
  const rank = (m: string) => (METHOD_ORDER.includes(m) ? METHOD_ORDER.indexOf(m) : METHOD_ORDER.length);
  return [...set].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Whether `method` is one a path taking `methods` answers (HEAD wherever GET is). */
export const methodAllowed = (method: string | undefined, methods: readonly string[]): boolean => method !== undefined && allowedMethods(methods).includes(method);

/** The 405 answer for `method` on a path that takes `methods` (the path is not echoed): its Allow header and error. */
export function methodNotAllowed(method: string | undefined, methods: readonly string[]): { allow: string; error: { code: 'method-not-allowed'; message: string } } {
  const allow = allowedMethods(methods).join(', ');
  return { allow, error: { code: 'method-not-allowed', message: `${method ?? 'this method'} is not allowed on this path (it takes ${allow})` } };
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

/**
 * Why an API route refuses its query string, or undefined: a parameter it does not take (refused as
 * an unknown body field is: a misspelt `limt=5` would otherwise be ignored), or one given more than
 * once that is not a list (which value was meant cannot be known). Both servers word them alike.
 */
export function queryProblem(params: Iterable<[string, string]>, takes: readonly string[], lists: readonly string[] = []): string | undefined {
  const seen = new Set<string>();
  for (const [k] of params) {
    if (!takes.includes(k)) return `unknown query parameter ${quote(k.slice(0, 40))} (${takes.length ? `this request takes ${takes.join(', ')}` : 'this request takes no query parameters'})`;
    if (seen.has(k) && !lists.includes(k)) return `${quote(k)} is given more than once`;
    seen.add(k);
  }
  return undefined;
}
