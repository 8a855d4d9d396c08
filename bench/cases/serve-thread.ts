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
import { countPredictions } from '../../src/store/node/predictions.ts';
import { openStore, updateSettings } from '../../src/store/node/store.ts';
import { bigCsv, DEMO_PACKAGE } from '../../test/helpers/app-harness.ts';
import { ReferenceLogSort } from '../../test/helpers/log-sort-reference.ts';

interface Delay { p50Ms: number; p99Ms: number; maxMs: number; seconds: number; polls?: number }

const summary = (h: ReturnType<typeof monitorEventLoopDelay>, seconds: number, polls?: number): Delay => ({
  p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, seconds, ...(polls !== undefined ? { polls } : {}),
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
    await new Promise((r) => setTimeout(r, 3000));
    idle.disable();

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
      return { jobId: job.id, ...summary(h, (performance.now() - t0) / 1000, polls) };
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
    const cold = await timed(() => queries.sortedPage({}, sortColumn, true, 0, 200, total));
    during.disable();
    const next = await timed(() => queries.sortedPage({}, sortColumn, true, 200, 200, total));
    const deep = await timed(() => queries.sortedPage({}, sortColumn, true, Math.floor(total / 2), 200, total));
    const labels = await timed(() => queries.sortedPage({}, 'label', false, 0, 200, total));
    await queries.close();
    // a worker already running (as after the job view's distribution), the view not yet built
    const warmQueries = createLogQueries(home);
    await warmQueries.distribution(firstJob.jobId, 20);
    const warm = await timed(() => warmQueries.sortedPage({}, sortColumn, true, 0, 200, total));
    await warmQueries.close();

    const same = isDeepStrictEqual(cold.value, old.value) && isDeepStrictEqual(next.value, oldNext.value) && isDeepStrictEqual(warm.value, old.value);
    if (!same) throw new Error('the log-query worker\'s pages differ from the old sort\'s');
    return {
      rowsPerJob, logRows: total, sortColumn,
      eventLoopDelay: {
        idle: summary(idle, 3),
        jobWithSortInWorker: firstJob,
        jobWithSortOnServingThread: baselineJob,
        p99RatioWorkerOverOld: firstJob.p99Ms / baselineJob.p99Ms,
        whileWorkerSorts2M: summary(during, cold.ms / 1000),
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
