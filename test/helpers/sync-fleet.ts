// Fleet fixtures for sync tests: a hub (any backend) with workstations enrolled through the real
// enrollment path, each a data folder with the demo model (which has a drift baseline) installed.
import fs from 'node:fs';
import path from 'node:path';
import { createEnrollment } from '../../src/hub/node/devices.ts';
import type { Hub } from '../../src/hub/node/repository.ts';
import { scoreFile } from '../../src/scoring/node/score-file.ts';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore, type Store } from '../../src/store/node/store.ts';
import { connect } from '../../src/sync/node/connect.ts';
import { REPO } from './cli.ts';

export const DEMO_PACKAGE = path.join(REPO, 'models/demo/weather');
export const SAMPLE = path.join(REPO, 'models/demo/weather-2015.csv');

export interface Workstation { name: string; home: string; store: Store }

/** A data folder with the demo model, enrolled on the hub under `name` (via a fresh one-time code). */
export async function enrollWorkstation(hub: Hub, url: string, trustRoot: string, parent: string, name: string, group = ''): Promise<Workstation> {
  const home = path.join(parent, name);
  const store = openStore(home);
  installPackage(store, DEMO_PACKAGE, { source: 'local', allowUnsigned: true });
  const { code } = await createEnrollment(hub, { name, group });
  await connect(store, { hubUrl: url, rootFile: trustRoot, code });
  return { name, home, store };
}

/** Split a CSV (header kept on each part) into `n` files of consecutive rows. */
export function splitCsv(file: string, n: number, dir: string): string[] {
  const [header, ...rows] = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  const per = Math.ceil(rows.length / n);
  return Array.from({ length: n }, (_, i) => {
    const f = path.join(dir, `part-${i + 1}.csv`);
    fs.writeFileSync(f, [header, ...rows.slice(i * per, (i + 1) * per)].join('\n') + '\n');
    return f;
  });
}

export async function score(ws: Workstation, file: string, opts: { batchRows?: number } = {}) {
  return scoreFile(ws.store, { input: file, model: 'seattle-weather', out: path.join(ws.home, `out-${path.basename(file)}-${Math.random().toString(36).slice(2)}.csv`), ...(opts.batchRows ? { batchRows: opts.batchRows } : {}) }, { checkpointRows: opts.batchRows });
}

/** Rows each job of a store scored, by job id. */
export const jobRows = (s: Store): Map<string, number> =>
  new Map((s.db.prepare('SELECT id, rows_scored FROM jobs').all() as { id: string; rows_scored: number }[]).map((r) => [r.id, r.rows_scored]));

/** Seeded PRNG (mulberry32): fault injection must be reproducible from the printed seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
