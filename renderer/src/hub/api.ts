// The console's client for the hub's admin API: same-origin fetches carrying the HttpOnly session
// cookie, errors as the app's ApiError (a 401 becomes "unauthorized": the console shows sign-in).
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../client/error.ts';

export const SIGNED_OUT = 'outpost-hub-signed-out';

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method, credentials: 'same-origin', cache: 'no-store',
      ...(body !== undefined ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    throw new ApiError({ code: 'internal', message: `cannot reach the hub (${(e as Error).message})` });
  }
  const json = (await res.json().catch(() => null)) as ({ ok?: boolean; error?: { code?: string; message?: string } } & T) | null;
  if (res.status === 401) {
    window.dispatchEvent(new Event(SIGNED_OUT));
    throw new ApiError({ code: 'unauthorized', message: json?.error?.message ?? 'sign in with the hub\'s admin token' });
  }
  if (!res.ok || !json || json.ok === false) {
    const code = res.status === 404 ? 'not-found' : res.status === 400 ? 'usage' : res.status === 409 ? 'conflict' : 'internal';
    throw new ApiError({ code, message: json?.error?.message ?? `the hub answered ${res.status}` });
  }
  return json;
}

export const hubGet = <T,>(path: string): Promise<T> => request<T>('GET', path);
export const hubPost = <T,>(path: string, body: unknown): Promise<T> => request<T>('POST', path, body);
export const hubDelete = <T,>(path: string): Promise<T> => request<T>('DELETE', path);

/** `path` with the defined, non-empty-unless-meant parameters as its query. */
export function withQuery(path: string, params: Record<string, string | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export interface GetState<T> { data: T | undefined; error: ApiError | undefined; loading: boolean; reload: () => void }

/** GET `path` (null: nothing) and again when it changes; keeps the last data while reloading. */
export function useGet<T>(path: string | null): GetState<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean; path?: string | null }>({ loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) { setState({ loading: false }); return; }
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    hubGet<T>(path).then(
      (data) => { if (live) setState({ data, loading: false, path }); },
      (e: unknown) => { if (live) setState((s) => ({ data: s.data, error: e instanceof ApiError ? e : new ApiError({ code: 'internal', message: String(e) }), loading: false })); },
    );
    return () => { live = false; };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
