// Issue 13, "serve thread": the serving process's event loop while a job runs and the UI polls it
// (a sorted prediction page among the polls), and the first page of a 2M-row sorted log. Same
// process, same run, each against its baseline:
// - event-loop delay (monitorEventLoopDelay, 10 ms resolution) of the serving thread: idle (the
//   machine's noise floor), during a job whose sorted pages go to the log-query worker (now), and
//   during an equal job whose sorted pages run on the serving thread as before
//   (test/helpers/log-sort-reference.ts, main's old LogReader verbatim);
// - first sorted page of the whole 2M-row log: through the log-query worker (started cold, and
//   warm with a cold view) vs the old full decode + comparator sort on this thread; then the next
//   page (cached order), a deep page (whole order, radix), a string column; the serving thread's
//   worst delay while the worker sorts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import type { ApiEvent } from '../../src/api/common/contract.ts';
import { createLogQueries } from '../../src/api/node/log-queries.ts';
import { createService } from '../../src/api/node/service.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { countPredictions, type PredictionRow } from '../../src/store/node/predictions.ts';
import { openStore, updateSettings } from '../../src/store/node/store.ts';
import { bigCsv, DEMO_PACKAGE } from '../../test/helpers/app-harness.ts';
import { ReferenceLogSort } from '../../test/helpers/log-sort-reference.ts';

interface Stalls {
  /** gaps over 100 ms between 10 ms timer ticks */
  over100: number;
  /** the longest gap, and the CPU time this thread itself used during it */
  worstMs: number;
  worstOnThreadCpuMs: number;
  /** the most CPU this thread used between two ticks: its longest own work (the part of a delay no other load causes) */
  longestOwnWorkMs: number;
  /** over all gaps > 100 ms: the share of their time this thread was running (1 = its own work blocked it, 0 = it was not scheduled: CPU contention) */
  onThreadShare: number;
}

interface Delay { p50Ms: number; p99Ms: number; maxMs: number; seconds: number; polls?: number; stalls: Stalls }

/**
 * What made the event loop late: a 10 ms timer that records each gap beyond its period with the
 * CPU time this thread used meanwhile (process.threadCpuUsage). A gap filled with this thread's
 * CPU is work on the serving thread; a gap without is the thread waiting for a core.
 */
function stallWatch(): { stop(): Stalls } {
  const cpu = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; };
  let last = performance.now(), lastCpu = cpu();
  const s = { over100: 0, worstMs: 0, worstOnThreadCpuMs: 0, longestOwnWorkMs: 0, stalledMs: 0, stalledCpuMs: 0 };
  const timer = setInterval(() => {
    const now = performance.now(), c = cpu();
    const gap = now - last - 10, used = c - lastCpu;
    if (gap > 100) { s.over100++; s.stalledMs += gap; s.stalledCpuMs += Math.min(used, gap); }
    if (gap > s.worstMs) { s.worstMs = gap; s.worstOnThreadCpuMs = used; }
    s.longestOwnWorkMs = Math.max(s.longestOwnWorkMs, used);
    last = now; lastCpu = c;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return { over100: s.over100, worstMs: s.worstMs, worstOnThreadCpuMs: s.worstOnThreadCpuMs, longestOwnWorkMs: s.longestOwnWorkMs, onThreadShare: s.stalledMs > 0 ? s.stalledCpuMs / s.stalledMs : 0 };
    },
  };
}

const summary = (h: ReturnType<typeof monitorEventLoopDelay>, seconds: number, stalls: Stalls, polls?: number): Delay => ({
  p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, seconds, ...(polls !== undefined ? { polls } : {}), stalls,
});

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export async function run(opts: { quick?: boolean } = {}) {
  const rowsPerJob = opts.quick ? 200_000 : 1_000_000;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-bench-serve-'));
  const inputs = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-bench-serve-in-'));
  const store = openStore(home);
  try {
    installPackage(store, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
    updateSettings(store, { allowedFolders: [inputs] });
    const input = bigCsv(path.join(inputs, 'jobs.csv'), rowsPerJob);
    const service = createService({ home });
    const model = (await service.handlers['models.list']({} as never))[0].name;
    const finished = new Map<string, () => void>();
    service.subscribe((e: ApiEvent) => { if (e.type === 'job-finished') finished.get(e.job.id)?.(); });

    // the machine's noise floor: this thread idle for 3 s
    const idle = monitorEventLoopDelay({ resolution: 10 });
    idle.enable();
    const idleWatch = stallWatch();
    await new Promise((r) => setTimeout(r, 3000));
    idle.disable();
    const idleStalls = idleWatch.stop();

    const reference = new ReferenceLogSort(store);
    let sortColumn = 'row';
    /**
     * One job from the UI contract while a poller asks what the UI asks every 200 ms: the job, and
     * the first page of the whole log sorted by a probability column (the log grows at each of the
     * job's commits, so each poll after a commit sorts anew).
     */
    const jobWhilePolling = async (sortedPage: () => Promise<unknown>): Promise<Delay & { jobId: string }> => {
      const h = monitorEventLoopDelay({ resolution: 10 });
      const t0 = performance.now();
      h.enable();
      const watch = stallWatch();
      const job = await service.handlers['jobs.start']({ input, model } as never);
      const done = new Promise<void>((r) => finished.set(job.id, r));
      let over = false;
      let polls = 0;
      const poller = (async () => {
        while (!over) {
          await service.handlers['jobs.get']({ jobId: job.id } as never);
          if (countPredictions(store, {}) > 0) {
            // the sortable columns, as the UI learns them from the log's first page
            if (sortColumn === 'row') sortColumn = (await service.handlers['predictions.page']({ offset: 0, limit: 1 } as never)).sortable.find((c: string) => c.startsWith('p_')) ?? 'row';
            await sortedPage();
            polls++;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      await done;
      over = true;
      await poller;
      h.disable();
      return { jobId: job.id, ...summary(h, (performance.now() - t0) / 1000, watch.stop(), polls) };
    };
    // the baseline first, so that it sorts the smaller log (0 → 1M rows; the worker's job: 1M → 2M)
    const baselineJob = await jobWhilePolling(async () => reference.sortedPage({}, sortColumn, true, 0, 200, countPredictions(store, {})));
    const firstJob = await jobWhilePolling(() => service.handlers['predictions.page']({ sort: { column: sortColumn, descending: true }, offset: 0, limit: 200 } as never));
    await service.close();

    const total = countPredictions(store, {});
    // first page of the whole log: the old path on this thread (the baseline)
    const old = await timed(() => reference.sortedPage({}, sortColumn, true, 0, 200, total));
    const oldNext = await timed(() => reference.sortedPage({}, sortColumn, true, 200, 200, total));

    // the log-query worker, started by this query (cold), while this thread's delay is watched
    const queries = createLogQueries(home);
    const during = monitorEventLoopDelay({ resolution: 10 });
    during.enable();
    const duringWatch = stallWatch();
    const cold = await timed(() => queries.sortedPage({}, sortColumn, true, 0, 200, total));
    during.disable();
    const duringStalls = duringWatch.stop();
    const next = await timed(() => queries.sortedPage({}, sortColumn, true, 200, 200, total));
    const deep = await timed(() => queries.sortedPage({}, sortColumn, true, Math.floor(total / 2), 200, total));
    const labels = await timed(() => queries.sortedPage({}, 'label', false, 0, 200, total));
    await queries.close();
    // a worker already running (as after the job view's distribution), the view not yet built
    const warmQueries = createLogQueries(home);
    await warmQueries.distribution(firstJob.jobId, 20);
    const warm = await timed(() => warmQueries.sortedPage({}, sortColumn, true, 0, 200, total));
    await warmQueries.close();

    // Since 2026-12-03 sorted pages also carry the rows' logged inputs (input.*, as unsorted pages
    // do); the old path never did, so the comparison is of everything else (as test/log-query.test.ts).
    const outputsOnly = (rows: PredictionRow[]) => rows.map((r) => ({ ...r, values: Object.fromEntries(Object.entries(r.values).filter(([k]) => !k.startsWith('input.'))) }));
    const same = isDeepStrictEqual(outputsOnly(cold.value), old.value) && isDeepStrictEqual(outputsOnly(next.value), oldNext.value) && isDeepStrictEqual(outputsOnly(warm.value), old.value);
    if (!same) throw new Error('the log-query worker\'s pages differ from the old sort\'s');
    return {
      rowsPerJob, logRows: total, sortColumn,
      eventLoopDelay: {
        idle: summary(idle, 3, idleStalls),
        jobWithSortInWorker: firstJob,
        jobWithSortOnServingThread: baselineJob,
        p99RatioWorkerOverOld: firstJob.p99Ms / baselineJob.p99Ms,
        whileWorkerSorts2M: summary(during, cold.ms / 1000, duringStalls),
      },
      firstPage2M: {
        workerColdMs: cold.ms, workerWarmMs: warm.ms, fullSortBaselineMs: old.ms,
        ratioColdOverBaseline: cold.ms / old.ms, ratioWarmOverBaseline: warm.ms / old.ms,
        nextPageMs: next.ms, baselineNextPageMs: oldNext.ms, deepPageWholeOrderMs: deep.ms, stringColumnFirstPageMs: labels.ms,
        pagesIdenticalToBaseline: same,
      },
      loadAverage: os.loadavg()[0],
    };
  } finally {
    store.close();
    fs.rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    fs.rmSync(inputs, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(JSON.stringify(await run({ quick: process.argv.includes('--quick') }), null, 2));
