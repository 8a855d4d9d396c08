// The ground-truth labels workstations synced (`labels` items, src/hub/node/ingest.ts), per device and
// model version: the raw material of fleet performance (each row keeps the prediction it was joined
// to — label, value or class probabilities — so metrics can be computed on the hub later).
import type { Hub } from './repository.ts';

export interface FleetLabelCount {
  device: string;
  group: string;
  model: string;
  version: number;
  labels: number;
  late: number;
  /** epoch ms: the first and the last prediction labelled */
  from: number;
  to: number;
  /** epoch ms: when the newest label was joined on the device */
  lastLabelledAt: number;
}

export async function fleetLabelCounts(hub: Hub, opts: { model?: string } = {}): Promise<FleetLabelCount[]> {
  const rows = await hub.storage.fleet.all<{ device: string; grp: string; model_name: string; model_version: number; n: number; late: number; lo: number; hi: number; la: number }>(
    `SELECT d.name AS device, d.grp, l.model_name, l.model_version, count(*) AS n, sum(l.late) AS late, min(l.predicted_at) AS lo, max(l.predicted_at) AS hi, max(l.labelled_at) AS la
     FROM fleet_labels l JOIN fleet_devices d ON d.id = l.device_id ${opts.model ? 'WHERE l.model_name = ?' : ''}
     GROUP BY d.name, d.grp, l.model_name, l.model_version ORDER BY l.model_name, l.model_version, d.name`, opts.model ? [opts.model] : []);
  return rows.map((r) => ({ device: r.device, group: r.grp, model: r.model_name, version: Number(r.model_version), labels: Number(r.n), late: Number(r.late), from: Number(r.lo), to: Number(r.hi), lastLabelledAt: Number(r.la) }));
}
