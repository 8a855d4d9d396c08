// The hub's fleet tables (devices, enrollment codes, nonces, the ingest ledger and what items
// carried), one schema for both backends: SQLite takes the PostgreSQL spellings BIGINT and TEXT as
// they are; only binary columns differ (BLOB / bytea). Written once here, appended to each
// backend's migration list.
//
// `fleet_windows` keeps each device's hour and day windows; `fleet_rollups` the same merged per
// group as items arrive, so fleet drift reads one row per window and feature (per group), not one
// per device.
//
// The ledger `fleet_items` has one row per (device, seq) ever ingested: an item counts once
// however many times, and by whichever path (online sync, an imported bundle), it arrives.

/** A minimal SQL runner both backends provide: `?` placeholders, integers as numbers, binaries as Buffers. */
export interface SqlRunner {
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** returns the number of rows changed */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Hold a lock named `key` until the transaction ends (PostgreSQL: an advisory transaction lock;
   * absent on SQLite, whose writer is already one at a time).
   */
  lock?(key: string): Promise<void>;
}

export function fleetSchema(dialect: 'sqlite' | 'postgres'): string {
  const blob = dialect === 'sqlite' ? 'BLOB' : 'bytea';
  return `
    CREATE TABLE fleet_devices (
      id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, grp TEXT NOT NULL, public_key TEXT NOT NULL,
      enrolled_at BIGINT NOT NULL, revoked_at BIGINT, last_seen_at BIGINT, outpost_version TEXT,
      state_json TEXT, state_seq BIGINT NOT NULL DEFAULT 0,
      quota_day BIGINT NOT NULL DEFAULT 0, quota_bytes BIGINT NOT NULL DEFAULT 0,
      items BIGINT NOT NULL DEFAULT 0, max_seq BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE fleet_enrollments (
      code_hash TEXT PRIMARY KEY, name TEXT NOT NULL, grp TEXT NOT NULL, created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL, used_at BIGINT, device_id TEXT
    );
    CREATE TABLE fleet_nonces (device_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (device_id, nonce));
    CREATE TABLE fleet_items (
      device_id TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL, created_at BIGINT NOT NULL,
      received_at BIGINT NOT NULL, bytes BIGINT NOT NULL, via TEXT NOT NULL, PRIMARY KEY (device_id, seq)
    );
    CREATE TABLE fleet_cards (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, version BIGINT NOT NULL, card TEXT NOT NULL, received_at BIGINT NOT NULL);
    CREATE TABLE fleet_predictions (
      device_id TEXT NOT NULL, job_id TEXT NOT NULL, batch_seq BIGINT NOT NULL, model_name TEXT NOT NULL,
      model_version BIGINT NOT NULL, first_row BIGINT NOT NULL, row_count BIGINT NOT NULL, logged_at BIGINT NOT NULL,
      item_seq BIGINT NOT NULL, sample_rate DOUBLE PRECISION, outputs ${blob} NOT NULL, inputs ${blob},
      PRIMARY KEY (device_id, job_id, batch_seq)
    );
    CREATE INDEX fleet_predictions_by_model ON fleet_predictions (model_name, logged_at);
    CREATE TABLE fleet_jobs (
      device_id TEXT NOT NULL, job_id TEXT NOT NULL, item_seq BIGINT NOT NULL, model_name TEXT NOT NULL,
      model_version BIGINT NOT NULL, status TEXT NOT NULL, rows_read BIGINT NOT NULL, rows_scored BIGINT NOT NULL,
      rows_rejected BIGINT NOT NULL, summary TEXT NOT NULL, PRIMARY KEY (device_id, job_id)
    );
    CREATE TABLE fleet_windows (
      model_name TEXT NOT NULL, model_version BIGINT NOT NULL, width TEXT NOT NULL, start BIGINT NOT NULL,
      device_id TEXT NOT NULL, feature TEXT NOT NULL, card_sha256 TEXT NOT NULL, stats TEXT NOT NULL, rows BIGINT NOT NULL,
      PRIMARY KEY (model_name, model_version, width, start, device_id, feature)
    );
    CREATE TABLE fleet_rollups (
      model_name TEXT NOT NULL, model_version BIGINT NOT NULL, width TEXT NOT NULL, start BIGINT NOT NULL, grp TEXT NOT NULL,
      card_sha256 TEXT NOT NULL, feature TEXT NOT NULL, stats TEXT NOT NULL, rows BIGINT NOT NULL,
      PRIMARY KEY (model_name, model_version, width, start, grp, card_sha256, feature)
    );
    CREATE TABLE fleet_events (
      device_id TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL, at BIGINT NOT NULL, model TEXT,
      summary TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (device_id, seq)
    );
    CREATE INDEX fleet_events_by_time ON fleet_events (at);
    CREATE TABLE fleet_alerts (
      device_id TEXT NOT NULL, model_name TEXT NOT NULL, model_version BIGINT NOT NULL, scope TEXT NOT NULL, scope_key TEXT NOT NULL,
      feature TEXT NOT NULL, item_seq BIGINT NOT NULL, opened_at BIGINT NOT NULL, cleared_at BIGINT, detail TEXT NOT NULL,
      PRIMARY KEY (device_id, model_name, model_version, scope, scope_key, feature)
    );
  `;
}

/**
 * Staged rollouts (src/hub/node/rollouts.ts), a migration of its own after the fleet tables.
 * `fleet_rollouts`: what devices of a group should run (model + signed alias; a stable seeded
 * percentage of the group), its state (active, halted, rolled-back, superseded) and `generation`,
 * which grows each time the assignment moves (rollback), so a device acts and reports once per
 * generation. `fleet_rollout_reports`: what each device reported per generation (the `rollout` item).
 */
export function rolloutSchema(dialect: 'sqlite' | 'postgres'): string {
  const real = dialect === 'sqlite' ? 'REAL' : 'DOUBLE PRECISION';
  return `
    CREATE TABLE fleet_rollouts (
      id TEXT PRIMARY KEY, model TEXT NOT NULL, alias TEXT NOT NULL, grp TEXT NOT NULL, percent ${real} NOT NULL, seed TEXT NOT NULL,
      state TEXT NOT NULL, generation BIGINT NOT NULL, version_at_create BIGINT, rollback_to BIGINT,
      created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, history TEXT NOT NULL
    );
    CREATE INDEX fleet_rollouts_by_group ON fleet_rollouts (grp, model, state);
    CREATE TABLE fleet_rollout_reports (
      rollout_id TEXT NOT NULL, device_id TEXT NOT NULL, generation BIGINT NOT NULL, item_seq BIGINT NOT NULL, outcome TEXT NOT NULL,
      version BIGINT, previous_version BIGINT, stage TEXT, reason TEXT, at BIGINT NOT NULL,
      PRIMARY KEY (rollout_id, device_id, generation)
    );
  `;
}

/**
 * Upstream proposals (src/hub/node/proposals.ts): a workstation's retrained challenger, stored as sent
 * (card text and model bytes) until a publisher accepts or rejects it; one per (device, model SHA-256).
 * A later migration, appended to both backends' lists.
 */
export function proposalsSchema(dialect: 'sqlite' | 'postgres'): string {
  const blob = dialect === 'sqlite' ? 'BLOB' : 'bytea';
  return `
    CREATE TABLE fleet_proposals (
      id TEXT PRIMARY KEY, device_id TEXT NOT NULL, model_name TEXT NOT NULL, local_version BIGINT NOT NULL,
      model_sha256 TEXT NOT NULL, card_sha256 TEXT NOT NULL, card TEXT NOT NULL, model ${blob} NOT NULL, size_bytes BIGINT NOT NULL,
      comparison TEXT, note TEXT, received_at BIGINT NOT NULL, status TEXT NOT NULL, decided_at BIGINT, reason TEXT,
      published_version BIGINT, published_by TEXT, UNIQUE (device_id, model_sha256)
    );
    CREATE INDEX fleet_proposals_by_time ON fleet_proposals (received_at);
  `;
}

/**
 * Ground-truth labels devices sync (`labels` items, src/hub/node/ingest.ts): one row per device,
 * model, version and id — the item with the higher seq wins (a replaced label). A migration of its
 * own, appended after the proposals one.
 */
export function labelsSchema(): string {
  return `
    CREATE TABLE fleet_labels (
      device_id TEXT NOT NULL, model_name TEXT NOT NULL, model_version BIGINT NOT NULL, id TEXT NOT NULL, job_id TEXT NOT NULL, row_index BIGINT NOT NULL,
      predicted_at BIGINT NOT NULL, truth TEXT NOT NULL, truth_value DOUBLE PRECISION, predicted TEXT, predicted_value DOUBLE PRECISION, scores TEXT,
      late BIGINT NOT NULL, labelled_at BIGINT NOT NULL, item_seq BIGINT NOT NULL,
      PRIMARY KEY (device_id, model_name, model_version, id)
    );
    CREATE INDEX fleet_labels_by_model ON fleet_labels (model_name, model_version, predicted_at);
  `;
}

/**
 * Fleet drift rollups kept at ingest (src/hub/node/fleet-rollups.ts), a migration of its own:
 * - `fleet_drift_devices`: per model, version, width, device and card, the first and last window
 *   start the device has statistics for (which devices contributed to a range, without scanning
 *   the windows);
 * - `fleet_drift_counts`: per window, group and card, how many devices have statistics in it;
 * - `fleet_drift_blocks`: exactly merged statistics per scope — `fleet` (owner '', every window:
 *   the merge over all groups), `group` and `device` (owner = group / device id, dyadic blocks of
 *   levels 1..BLOCK_LEVELS; level 0 of those two is fleet_rollups / fleet_windows). Keyed so that
 *   one piece of every device is one index range (feature, level, start before owner).
 * The two small tables are back-filled here in SQL; the blocks need the cards to parse statistics
 * and are back-filled by `backfillFleetRollups` when the hub opens (`fleet_drift_backfill`).
 */
export function fleetRollupsSchema(): string {
  return `
    CREATE TABLE fleet_drift_devices (
      model_name TEXT NOT NULL, model_version BIGINT NOT NULL, width TEXT NOT NULL, device_id TEXT NOT NULL, card_sha256 TEXT NOT NULL,
      first_start BIGINT NOT NULL, last_start BIGINT NOT NULL, PRIMARY KEY (model_name, model_version, width, device_id, card_sha256)
    );
    INSERT INTO fleet_drift_devices (model_name, model_version, width, device_id, card_sha256, first_start, last_start)
      SELECT model_name, model_version, width, device_id, card_sha256, min(start), max(start) FROM fleet_windows GROUP BY model_name, model_version, width, device_id, card_sha256;
    CREATE TABLE fleet_drift_counts (
      model_name TEXT NOT NULL, model_version BIGINT NOT NULL, width TEXT NOT NULL, card_sha256 TEXT NOT NULL, start BIGINT NOT NULL, grp TEXT NOT NULL,
      devices BIGINT NOT NULL, PRIMARY KEY (model_name, model_version, width, card_sha256, start, grp)
    );
    INSERT INTO fleet_drift_counts (model_name, model_version, width, card_sha256, start, grp, devices)
      SELECT w.model_name, w.model_version, w.width, w.card_sha256, w.start, d.grp, count(DISTINCT w.device_id) FROM fleet_windows w JOIN fleet_devices d ON d.id = w.device_id
      GROUP BY w.model_name, w.model_version, w.width, w.card_sha256, w.start, d.grp;
    CREATE TABLE fleet_drift_blocks (
      model_name TEXT NOT NULL, model_version BIGINT NOT NULL, width TEXT NOT NULL, card_sha256 TEXT NOT NULL, scope TEXT NOT NULL, feature TEXT NOT NULL,
      level BIGINT NOT NULL, start BIGINT NOT NULL, owner TEXT NOT NULL, stats TEXT NOT NULL, rows BIGINT NOT NULL,
      PRIMARY KEY (model_name, model_version, width, card_sha256, scope, feature, level, start, owner)
    );
    CREATE TABLE fleet_drift_backfill (done BIGINT NOT NULL);
    INSERT INTO fleet_drift_backfill (done) VALUES (0);
  `;
}

/**
 * `fleet_rollouts.seq`: the order rollouts were created in, 1, 2, 3, … (MAX + 1 in the creating
 * transaction; writers are serialised on both backends). Two rollouts created in the same
 * millisecond list — and supersede each other in assignments — by it, not by their random ids.
 * Rollouts made before this migration are numbered by (created_at, id). A migration of its own.
 */
export function rolloutSeqSchema(): string {
  return `
    ALTER TABLE fleet_rollouts ADD COLUMN seq BIGINT;
    UPDATE fleet_rollouts SET seq = (SELECT count(*) FROM fleet_rollouts o
      WHERE o.created_at < fleet_rollouts.created_at OR (o.created_at = fleet_rollouts.created_at AND o.id <= fleet_rollouts.id));
    CREATE UNIQUE INDEX fleet_rollouts_by_seq ON fleet_rollouts (seq);
  `;
}

/**
 * `fleet_enrollments.cancelled_at`: an enrollment code the operator cancelled (`outpost hub devices
 * codes cancel`) before it was used; redeeming it is refused, saying so. A migration of its own.
 */
export function enrollmentCancelSchema(): string {
  return 'ALTER TABLE fleet_enrollments ADD COLUMN cancelled_at BIGINT;';
}
