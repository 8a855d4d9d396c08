// chooseProvider: turns `--ep auto|cpu|cuda|…` into the provider the engine will use, with the
// reason each candidate was taken or passed over. Probes run in a worker thread (GPU session
// creation can block for seconds, and a hung driver must not freeze the caller) and are cached for
// the life of the process and, given a cache file, per machine on disk (./probe-cache.ts). An explicit request that cannot work throws: no silent fallback.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/node/worker.ts';
import { OutpostError } from '../../common/errors.ts';
import { autoCandidates, cacheDate, decide, isProviderRequest, providerNames } from '../common/providers.ts';
import type { ProbeResult, ProviderDecision, ProviderName, ProviderRequest } from '../common/providers.ts';
import type { FromProbe, ToProbe } from '../common/protocol.ts';
import type { MachineFingerprint } from '../common/probe-cache.ts';
import { recordRuntimeProblem, selectOrtRuntime } from './ort-runtime.ts';
import { loadProbeCache, machineFingerprint, saveProbeCache } from './probe-cache.ts';

export interface ChooseOptions {
  /** Forget earlier probe results and ask again (after installing a driver, say). */
  reprobe?: boolean;
  /** How long one provider may take to create its session and run; then it counts as failed. */
  probeTimeoutMs?: number;
  /**
   * The machine's probe cache (`<home>/cache/provider-probe.json`): results found there for this
   * machine's fingerprint are used without probing (the decision says so: `cachedAt`), fresh
   * results are added. With `reprobe` the cache is refreshed. Without it, nothing is cached on disk.
   */
  cacheFile?: string;
  /**
   * The data folder: its GPU runtime, when installed and intact, is what this process loads ONNX
   * Runtime from (./ort-runtime.ts); a modified one rules CUDA out with the reason (and `--ep cuda` fails).
   */
  home?: string;
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
    this.#worker = startWorker(new URL('./probe-worker.ts', import.meta.url));
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

  // before anything here loads ORT: which files this process loads it from
  const runtime = opts.home ? selectOrtRuntime(opts.home) : {};
  if (opts.home && runtime.modified) await recordRuntimeProblem(opts.home, runtime);
  if (request === 'cpu') return { request, chosen: 'cpu', candidates: [{ name: 'cpu', outcome: 'chosen', reason: 'requested' }] };
  if (request === 'cuda' && runtime.problem) throw new OutpostError('provider', `execution provider cuda cannot be used: ${runtime.problem}`, {}, { provider: 'cuda', outcome: 'unavailable' });

  // The machine's cache first: a result probed on this very machine (same ORT, driver, GPUs, CPU) stands.
  let fingerprint: MachineFingerprint | undefined;
  let onDisk: ReturnType<typeof loadProbeCache>;
  if (opts.cacheFile) {
    fingerprint = machineFingerprint();
    if (!opts.reprobe) onDisk = loadProbeCache(opts.cacheFile, fingerprint);
  }
  const fresh: ProbeResult[] = [];
  let usedCache = false;
  const get = async (name: ProviderName): Promise<ProbeResult> => {
    if (name === 'cuda' && runtime.problem) return { name, outcome: 'unavailable', reason: runtime.problem };
    const hit = onDisk?.results.get(name);
    if (hit) {
      usedCache = true;
      return hit;
    }
    const r = await probe(name, timeoutMs);
    fresh.push(r);
    return r;
  };
  const finish = <T extends ProviderDecision | undefined>(d: T): T => {
    if (opts.cacheFile && fingerprint && fresh.length) saveProbeCache(opts.cacheFile, fingerprint, fresh);
    if (d && usedCache && onDisk) d.cachedAt = onDisk.probedAt;
    return d;
  };

  if (request !== 'auto') {
    const r = await get(request);
    const decision = finish(decide(request, [r], []));
    if (!decision) throw new OutpostError('provider', `execution provider ${request} cannot be used: ${r.reason}${usedCache && onDisk ? ` (cached probe from ${cacheDate(onDisk.probedAt)}; \`outpost settings set provider ${request}\` probes again)` : ''}`, {}, { provider: request, outcome: r.outcome });
    return decision;
  }

  const order = autoCandidates(process.platform, process.arch);
  const results: ProbeResult[] = [];
  for (const name of order) {
    const r = await get(name);
    results.push(r);
    if (r.outcome === 'ok') break;
  }
  const untried = order.slice(results.length);
  if (results.every((r) => r.outcome !== 'ok')) results.push({ name: 'cpu', outcome: 'ok', reason: 'always available' });
  // cpu always succeeds, so a decision always exists here.
  return finish(decide('auto', results, untried)) as ProviderDecision;
}
