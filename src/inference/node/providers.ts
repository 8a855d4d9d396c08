// chooseProvider: turns `--ep auto|cpu|cuda|…` into the provider the engine will use, with the
// reason each candidate was taken or passed over. Probes run in a worker thread (GPU session
// creation can block for seconds, and a hung driver must not freeze the caller) and are cached for
// the life of the process. An explicit request that cannot work throws: no silent fallback.
import { Worker } from 'node:worker_threads';
import { OutpostError } from '../../common/errors.ts';
import { autoCandidates, decide, isProviderRequest, providerNames } from '../common/providers.ts';
import type { ProbeResult, ProviderDecision, ProviderName, ProviderRequest } from '../common/providers.ts';
import type { FromProbe, ToProbe } from '../common/protocol.ts';

export interface ChooseOptions {
  /** Forget earlier probe results and ask again (after installing a driver, say). */
  reprobe?: boolean;
  /** How long one provider may take to create its session and run; then it counts as failed. */
  probeTimeoutMs?: number;
}

const DEFAULT_PROBE_TIMEOUT_MS = 60_000;

const cache = new Map<ProviderName, Promise<ProbeResult>>();

interface Waiting {
  name: ProviderName;
  resolve: (r: ProbeResult) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The probe worker, started on the first uncached probe and stopped when none is waiting. */
class ProbeHost {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #stopped = false;

  constructor() {
    this.#worker = new Worker(new URL('./probe-worker.ts', import.meta.url));
    this.#worker.on('message', (m: FromProbe) => this.#settle(m.id, m.result));
    let crash = '';
    this.#worker.on('error', (e) => { crash = e.message; });
    this.#worker.on('exit', (code) => this.#stop(`probe worker stopped (${crash || `exit code ${code}`})`));
  }

  probe(name: ProviderName, timeoutMs: number): Promise<ProbeResult> {
    if (this.#stopped) return Promise.resolve({ name, outcome: 'probe-failed', reason: 'probe worker stopped' });
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
      const timer = setTimeout(() => this.#stop(`no answer within ${limit} (session creation hung?)`), timeoutMs);
      this.#waiting.set(id, { name, resolve, timer });
      const msg: ToProbe = { kind: 'probe', id, name };
      this.#worker.postMessage(msg);
    });
  }

  get idle(): boolean {
    return this.#waiting.size === 0;
  }

  #settle(id: number, result: ProbeResult): void {
    const w = this.#waiting.get(id);
    if (!w) return;
    this.#waiting.delete(id);
    clearTimeout(w.timer);
    w.resolve(result);
    if (this.idle) this.#stop('');
  }

  /** Ends the worker; anything still waiting counts as a failed probe with `why`. */
  #stop(why: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (host === this) host = undefined;
    for (const [id, w] of this.#waiting) {
      clearTimeout(w.timer);
      this.#waiting.delete(id);
      w.resolve({ name: w.name, outcome: 'probe-failed', reason: why });
    }
    void this.#worker.terminate();
  }
}

let host: ProbeHost | undefined;

function probe(name: ProviderName, timeoutMs: number): Promise<ProbeResult> {
  let p = cache.get(name);
  if (!p) {
    host ??= new ProbeHost();
    p = host.probe(name, timeoutMs);
    cache.set(name, p);
  }
  return p;
}

/**
 * Picks the execution provider. `auto` tries the platform's GPU providers best first and falls
 * back to CPU with a stated reason for each; an explicit provider that does not work throws
 * OutpostError('provider'). `cpu` never probes.
 */
export async function chooseProvider(request: ProviderRequest, opts: ChooseOptions = {}): Promise<ProviderDecision> {
  if (!isProviderRequest(request)) {
    throw new OutpostError('usage', `unknown execution provider "${String(request)}" (use auto, ${providerNames.join(', ')})`);
  }
  if (opts.reprobe) cache.clear();
  const timeoutMs = opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;

  if (request === 'cpu') return { request, chosen: 'cpu', candidates: [{ name: 'cpu', outcome: 'chosen', reason: 'requested' }] };

  if (request !== 'auto') {
    const r = await probe(request, timeoutMs);
    const decision = decide(request, [r], []);
    if (!decision) throw new OutpostError('provider', `execution provider ${request} cannot be used: ${r.reason}`, {}, { provider: request, outcome: r.outcome });
    return decision;
  }

  const order = autoCandidates(process.platform, process.arch);
  const results: ProbeResult[] = [];
  for (const name of order) {
    const r = await probe(name, timeoutMs);
    results.push(r);
    if (r.outcome === 'ok') break;
  }
  const untried = order.slice(results.length);
  if (results.every((r) => r.outcome !== 'ok')) results.push({ name: 'cpu', outcome: 'ok', reason: 'always available' });
  // cpu always succeeds, so a decision always exists here.
  return decide('auto', results, untried) as ProviderDecision;
}
