// React glue for the client: one client per app (context), a call hook that keeps the last data
// while reloading (no layout jumps), job events, and hash routing.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { OutpostClient } from '../../src/api/common/client.ts';
import type { ApiEvent, MethodName, Params, Result } from '../../src/api/common/contract.ts';
import { ApiError } from './client/error.ts';

const ClientContext = createContext<OutpostClient | null>(null);

export function ClientProvider({ client, children }: { client: OutpostClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useClient(): OutpostClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('no OutpostClient in context');
  return c;
}

export interface CallState<T> { data: T | undefined; error: ApiError | undefined; loading: boolean; reload: () => void }

/** Call a method and re-call when `params` change (compared as JSON); null params = do not call. */
export function useCall<M extends MethodName>(method: M, params: Params<M> | null): CallState<Result<M>> {
  const client = useClient();
  const key = params === null ? null : JSON.stringify(params);
  const [state, setState] = useState<{ data?: Result<M>; error?: ApiError; loading: boolean }>({ loading: key !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (key === null) { setState({ loading: false }); return; }
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    client.call(method, JSON.parse(key) as Params<M>).then(
      (data) => { if (live) setState({ data, loading: false }); },
      (e: unknown) => { if (live) setState((s) => ({ data: s.data, error: asApiError(e), loading: false })); },
    );
    return () => { live = false; };
  }, [client, method, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export const asApiError = (e: unknown): ApiError => (e instanceof ApiError ? e : new ApiError({ code: 'internal', message: e instanceof Error ? e.message : String(e) }));

/** Listen to job events while mounted. */
export function useEvents(listener: (e: ApiEvent) => void): void {
  const client = useClient();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => client.subscribe((e) => ref.current(e)), [client]);
}

// ---- routing (hash based: works from a file-less custom protocol and needs no server fallback) ----

export function useRoute(): string[] {
  const read = () => (window.location.hash.replace(/^#\/?/, '') || 'home').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const go = (...parts: string[]): void => { window.location.hash = `#/${parts.map(encodeURIComponent).join('/')}`; };
export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join('/')}`;
