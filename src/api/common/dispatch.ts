// The boundary every call crosses, whatever the transport: check the method name, validate the
// parameters (defaults filled in), run the handler, validate the result, and turn any failure into
// a plain { code, message, file?, row?, field? } a client can show. Pure.
import { isMethodName, methods, type ApiErrorShape, type Handlers, type MethodName } from './contract.ts';

export type CallOutcome = { ok: true; result: unknown } | { ok: false; error: ApiErrorShape };

/** Duck-typed OutpostError (src/common/errors.ts) so this file stays free of node-side imports. */
interface CodedError { code: string; message: string; location?: { file?: string; row?: number; field?: string } }

const KNOWN = new Set(['usage', 'input', 'package', 'not-found', 'provider', 'store', 'cancelled', 'reject-rate', 'conflict', 'unauthorized']);

export function toApiError(e: unknown): ApiErrorShape {
  const c = e as Partial<CodedError> | undefined;
  if (c && typeof c.code === 'string' && KNOWN.has(c.code) && typeof c.message === 'string') {
    const loc = c.location ?? {};
    return {
      code: c.code as ApiErrorShape['code'], message: c.message,
      ...(loc.file !== undefined ? { file: loc.file } : {}), ...(loc.row !== undefined ? { row: loc.row } : {}), ...(loc.field !== undefined ? { field: loc.field } : {}),
    };
  }
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

export class ContractError extends Error {
  readonly code = 'usage';
  readonly location = {};
}

/**
 * Validate the raw parameters of `method`; throws a usage error naming the bad field. Only absent
 * parameters (no body, an IPC call without them) mean {}: a JSON `null` is refused like `[]` or `"x"`.
 */
export function parseParams<M extends MethodName>(method: M, raw: unknown): Parameters<Handlers[M]>[0] {
  const r = methods[method].params.safeParse(raw === undefined ? {} : raw);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first.path.length ? `${first.path.map(String).join('.')}: ` : '';
    throw new ContractError(`${method}: ${where}${first.message}`);
  }
  return r.data as Parameters<Handlers[M]>[0];
}

export async function dispatch(handlers: Handlers, method: string, raw: unknown): Promise<CallOutcome> {
  try {
    if (!isMethodName(method)) throw new ContractError(`unknown method "${method}"`);
    const params = parseParams(method, raw);
    const result = await (handlers[method] as (p: unknown) => Promise<unknown>)(params);
    // The result is checked too: a core change that breaks the contract fails here, loudly, in tests.
    const checked = methods[method].result.safeParse(result);
    if (!checked.success) return { ok: false, error: { code: 'internal', message: `${method}: result does not match the contract (${checked.error.issues[0].path.join('.')}: ${checked.error.issues[0].message})` } };
    return { ok: true, result: checked.data };
  } catch (e) {
    return { ok: false, error: toApiError(e) };
  }
}

/** HTTP status for an error code. */
export function httpStatusOf(code: ApiErrorShape['code']): number {
  switch (code) {
    case 'usage': return 400;
    case 'unauthorized': return 401;
    case 'not-found': return 404;
    case 'conflict': return 409;
    case 'method-not-allowed': return 405;
    case 'too-large': return 413;
    case 'unsupported-media-type': return 415;
    case 'input': case 'package': case 'reject-rate': case 'cancelled': return 422;
    case 'provider': return 503;
    default: return 500;
  }
}
