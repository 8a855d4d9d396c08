// Fleet drift at fleet scale (issue 8 "`hub drift` over 1,000 devices × 30 days", issue 9 "Fleet drift
// within 200 ms"): the same hub (1,000 devices, quick: 100, in 10 groups, 30 day windows × 11
// features each, stored directly, then the rollups built by the migration's back-fill) answered
// two ways in the same run — through the ingest-time rollups (src/hub/node/fleet-rollups.ts) and the
// way the hub computed it before them (test/helpers/fleet-drift-reference.ts: scans of every device
// window) — so each speed is a ratio against a same-run baseline. Each answer is checked equal.
// Cold = the first computation of that question in the process (no answer cache: the console's
// cache is bypassed), then the median of 3 more. Also: the ingest cost of one device's day of
// statistics (24 hour windows) with every rollup kept, per item.
import { computeFleetDriftView } from '../../src/hub/node/fleet-drift-view.ts';
import { fleetDrift } from '../../src/hub/node/fleet-query.ts';
import { ingestItems } from '../../src/hub/node/ingest.ts';
import type { DeviceRow } from '../../src/hub/node/devices.ts';
import { initHub, openHub } from '../../src/hub/node/repository.ts';
import { referenceFleetDrift, referenceFleetDriftView } from '../../test/helpers/fleet-drift-reference.ts';
import { removeHub, tempHome } from '../lib.ts';
import { dayOfStatistics, enrollDevices, storeDayWindows } from './sync.ts';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(opts: { quick: boolean }): Promise<object> {
  const devices = opts.quick ? 100 : 1000;
  const days = 30;
  const dir = tempHome();
  await initHub(dir);
  const hub = await openHub(dir);
  try {
    const day = await dayOfStatistics();
    const devs = await enrollDevices(hub, devices, dir, 'q');
    const { features, backfillMs } = await storeDayWindows(hub, devs, days, day, 10);
    const ref = 'seattle-weather@1';
    const questions: Record<string, [() => Promise<unknown>, () => Promise<unknown>]> = {
      hubDriftAll: [() => fleetDrift(hub, ref), () => referenceFleetDrift(hub, ref)],
      hubDriftDay30: [() => fleetDrift(hub, ref, { window: 'day', last: 30 }), () => referenceFleetDrift(hub, ref, { window: 'day', last: 30 })],
      consoleFleetDrift: [() => computeFleetDriftView(hub, ref, { width: 'day' }), () => referenceFleetDriftView(hub, ref, { width: 'day' })],
      consoleFleetDriftGroup: [() => computeFleetDriftView(hub, ref, { width: 'day', group: 'g4' }), () => referenceFleetDriftView(hub, ref, { width: 'day', group: 'g4' })],
    };
    const timed = async (fn: () => Promise<unknown>): Promise<[number, string]> => {
      const t = performance.now();
      const v = await fn();
      return [performance.now() - t, JSON.stringify(v)];
    };
    const out: Record<string, object> = {};
    for (const [name, [rollups, old]] of Object.entries(questions)) {
      const [oldFirst, a] = await timed(old);
      const [newFirst, b] = await timed(rollups);
      if (a !== b) throw new Error(`${name}: the rollups' answer differs from the old computation`);
      const olds: number[] = [];
      const news: number[] = [];
      for (let i = 0; i < 3; i++) {
        olds.push((await timed(old))[0]);
        news.push((await timed(rollups))[0]);
      }
      out[name] = {
        oldFirstMs: oldFirst, rollupsFirstMs: newFirst, oldMedianMs: median(olds), rollupsMedianMs: median(news),
        speedupFirst: oldFirst / newFirst, speedupMedian: median(olds) / median(news), sameAnswer: true, rollupsFirstWithin200ms: newFirst <= 200,
      };
    }
    // ingest with every rollup kept: a day (24 hour windows × 11 features) from 20 devices, one item each
    const rows = await hub.storage.fleet.all<DeviceRow>('SELECT * FROM fleet_devices ORDER BY name LIMIT 20');
    const ingestMs: number[] = [];
    for (const d of rows) {
      const t = performance.now();
      await hub.storage.fleetTransaction(d.id, (sql) => ingestItems(hub, sql, d, [{ seq: 1, kind: 'drift', createdAt: Date.now(), payload: { model: 'seattle-weather', version: 1, cardSha256: day.cardSha256, hours: day.hours }, blobs: [] }], 10_000, { maxBytesPerDay: Number.POSITIVE_INFINITY }));
      ingestMs.push(performance.now() - t);
    }
    const blocks = Number((await hub.storage.fleet.all<{ n: number }>('SELECT count(*) AS n FROM fleet_drift_blocks'))[0].n);
    return {
      devices, groups: 10, days, features: features.length, deviceWindowRows: devices * days * features.length, blockRows: blocks,
      backfill: { ms: backfillMs, usPerDeviceWindow: (backfillMs * 1000) / (devices * days * features.length) },
      questions: out,
      ingestDayItem: { devices: rows.length, hourWindows: 24, medianMs: median(ingestMs), maxMs: Math.max(...ingestMs) },
      machineLoadAvg1m: (await import('node:os')).loadavg()[0],
    };
  } finally {
    await hub.close();
    removeHub(dir);
  }
}
