// Versioned schema migrations. Append only: a shipped migration is never edited, so every store
// on every workstation can be brought forward from any earlier version.

export const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'models, jobs, prediction log',
    sql: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      CREATE TABLE models (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        dir TEXT NOT NULL,
        card_json TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        card_sha256 TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        source TEXT NOT NULL,
        signed_by TEXT,
        signed_at TEXT,
        origin TEXT,
        installed_at TEXT NOT NULL,
        PRIMARY KEY (name, version)
      );

      CREATE TABLE active_models (
        name TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        previous_version INTEGER,
        changed_at TEXT NOT NULL,
        reason TEXT NOT NULL
      );

      CREATE TABLE model_events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER,
        kind TEXT NOT NULL,
        detail TEXT
      );

      CREATE TABLE security_events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        model TEXT,
        detail TEXT NOT NULL,
        synced INTEGER NOT NULL DEFAULT 0
      );

      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        model_name TEXT NOT NULL,
        model_version INTEGER NOT NULL,
        status TEXT NOT NULL,
        input_path TEXT NOT NULL,
        input_format TEXT NOT NULL,
        input_size INTEGER NOT NULL,
        input_fingerprint TEXT NOT NULL,
        output_path TEXT NOT NULL,
        output_format TEXT NOT NULL,
        rejects_path TEXT NOT NULL,
        options_json TEXT NOT NULL,
        provider TEXT,
        provider_summary TEXT,
        rows_read INTEGER NOT NULL DEFAULT 0,
        rows_scored INTEGER NOT NULL DEFAULT 0,
        rows_rejected INTEGER NOT NULL DEFAULT 0,
        checkpoint_json TEXT,
        error TEXT,
        busy_ms INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
      );
      CREATE INDEX jobs_by_created ON jobs (created_at);

      CREATE TABLE prediction_batches (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        model_name TEXT NOT NULL,
        model_version INTEGER NOT NULL,
        first_row INTEGER NOT NULL,
        row_count INTEGER NOT NULL,
        logged_at INTEGER NOT NULL,
        outputs BLOB NOT NULL,
        inputs BLOB,
        size_bytes INTEGER NOT NULL,
        PRIMARY KEY (job_id, seq)
      );
      CREATE INDEX prediction_batches_by_time ON prediction_batches (logged_at);
      CREATE INDEX prediction_batches_by_model ON prediction_batches (model_name, model_version, logged_at);
    `,
  },
  {
    version: 2,
    name: 'drift statistics per job and per UTC hour/day window, drift alerts',
    // Statistics are the JSON of drift/common's exactly mergeable structures, one row per feature
    // (inputs and `prediction.*` outputs); a window row is updated by merging, so its value is the
    // same whatever the order or split of the jobs that fed it. Written by src/monitor.
    sql: `
      CREATE TABLE drift_job_stats (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        feature TEXT NOT NULL,
        stats_json TEXT NOT NULL,
        rows INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (job_id, feature)
      );

      CREATE TABLE drift_window_stats (
        model_name TEXT NOT NULL,
        model_version INTEGER NOT NULL,
        width TEXT NOT NULL CHECK (width IN ('hour', 'day')),
        start INTEGER NOT NULL,
        feature TEXT NOT NULL,
        stats_json TEXT NOT NULL,
        rows INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (model_name, model_version, width, start, feature)
      );
      CREATE INDEX drift_window_stats_by_start ON drift_window_stats (width, start);

      CREATE TABLE drift_alerts (
        id INTEGER PRIMARY KEY,
        model_name TEXT NOT NULL,
        model_version INTEGER NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('job', 'hour', 'day')),
        scope_key TEXT NOT NULL,
        feature TEXT NOT NULL,
        method TEXT NOT NULL,
        statistic REAL,
        score REAL,
        threshold REAL NOT NULL,
        n_reference INTEGER NOT NULL,
        n_current INTEGER NOT NULL,
        report_json TEXT NOT NULL,
        current_json TEXT NOT NULL,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        cleared_at INTEGER,
        UNIQUE (model_name, model_version, scope, scope_key, feature)
      );
      CREATE INDEX drift_alerts_by_time ON drift_alerts (last_at);
    `,
  },
  {
    version: 3,
    name: 'hub provenance of installed models: signing role and its keys, status from the last metadata check',
    // signer_key_ids: the keys the hub's top-level targets delegated to the signing publisher when the
    // version was installed, so a later key change of that team can be shown. hub_status: what the last
    // metadata refresh (`models check`, every sync, every pull) said of the version: NULL (fine),
    // 'yanked' or 'revoked', with the reason in hub_status_detail.
    sql: `
      ALTER TABLE models ADD COLUMN signer_role TEXT;
      ALTER TABLE models ADD COLUMN signer_key_ids TEXT;
      ALTER TABLE models ADD COLUMN hub_status TEXT;
      ALTER TABLE models ADD COLUMN hub_status_detail TEXT;
      ALTER TABLE models ADD COLUMN hub_checked_at TEXT;
    `,
  },
  {
    version: 4,
    name: 'sync outbox',
    // The transactional outbox (src/store/node/outbox.ts): one row per item to send upstream,
    // written in the same transaction as the data it describes. AUTOINCREMENT: a sequence number is
    // never reused, even after sent items are pruned, so the hub's (device, seq) stays unique.
    // Prediction items reference their prediction_batches rows instead of copying them.
    sql: `
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        priority INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        payload BLOB,
        ref_job TEXT,
        ref_from INTEGER,
        ref_to INTEGER,
        rows INTEGER NOT NULL DEFAULT 0,
        size_bytes INTEGER NOT NULL,
        sent_at INTEGER,
        last_error TEXT
      );
      CREATE INDEX outbox_unsent ON outbox (priority, seq) WHERE sent_at IS NULL;
      CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'ground-truth labels joined to predictions, performance alerts, retrain proposals',
    // labels: one row per (model version, id) the label joined, with the prediction it joined copied
    // in (class, probabilities or value; its job, row and time), so performance survives the
    // prediction log's retention. label_imports: one row per `labels add`, with its counts (joined,
    // late, duplicates, conflicts, unknown ids, invalid rows). performance_alerts: like drift_alerts,
    // one row per (model version, scope, window, metric). proposals: retrained challengers awaiting
    // a decision (src/retrain), with both evaluations; never installed until activated.
    sql: `
      CREATE TABLE label_imports (
        id INTEGER PRIMARY KEY,
        model_name TEXT NOT NULL,
        at INTEGER NOT NULL,
        file TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        id_column TEXT NOT NULL,
        label_column TEXT NOT NULL,
        summary_json TEXT NOT NULL,
        issues_path TEXT
      );

      CREATE TABLE labels (
        model_name TEXT NOT NULL,
        model_version INTEGER NOT NULL,
        id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        row INTEGER NOT NULL,
        predicted_at INTEGER NOT NULL,
        truth TEXT NOT NULL,
        truth_value REAL,
        predicted TEXT,
        scores_json TEXT,
        predicted_value REAL,
        late INTEGER NOT NULL DEFAULT 0,
        import_id INTEGER NOT NULL REFERENCES label_imports (id),
        labelled_at INTEGER NOT NULL,
        PRIMARY KEY (model_name, model_version, id)
      );
      CREATE INDEX labels_by_time ON labels (model_name, model_version, predicted_at);
      CREATE INDEX labels_by_job ON labels (job_id);

      CREATE TABLE performance_alerts (
        id INTEGER PRIMARY KEY,
        model_name TEXT NOT NULL,
        model_version INTEGER NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('job', 'hour', 'day')),
        scope_key TEXT NOT NULL,
        metric TEXT NOT NULL,
        value REAL NOT NULL,
        ci_low REAL,
        ci_high REAL,
        threshold REAL NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('min', 'max')),
        n INTEGER NOT NULL,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        cleared_at INTEGER,
        UNIQUE (model_name, model_version, scope, scope_key, metric)
      );

      CREATE TABLE proposals (
        id TEXT PRIMARY KEY,
        model_name TEXT NOT NULL,
        champion_version INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('proposed', 'activated', 'dismissed')),
        trigger TEXT NOT NULL,
        trigger_detail TEXT,
        dir TEXT NOT NULL,
        card_json TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        metric TEXT NOT NULL,
        champion_score REAL,
        challenger_score REAL,
        decision TEXT NOT NULL,
        evaluation_json TEXT NOT NULL,
        data_json TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        activated_version INTEGER,
        activated_at INTEGER,
        sent_at INTEGER
      );
      CREATE INDEX proposals_by_model ON proposals (model_name, created_at);
    `,
  },
  {
    version: 6,
    name: 'drift alert webhook deliveries',
    // One row per message to POST to the driftWebhookUrl setting (src/monitor/node/webhook.ts),
    // written in the transaction that opens the alerts; delivered in the background with retries.
    // next_at doubles as a lease while an attempt is in flight.
    sql: `
      CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        url TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,
        delivered_at INTEGER,
        failed_at INTEGER,
        last_error TEXT
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
    `,
  },
  {
    version: 7,
    name: 'rollout assignments',
    // One row per rollout assignment the hub gave this workstation (src/sync/node/rollout.ts), per
    // (rollout, generation): what it names, what became of it (available: waiting for the user under
    // policy `ask`; installed; failed with the pull stage and reason; withdrawn: the hub moved the
    // assignment before it was acted on). The report to the hub is written to the outbox in the
    // same transaction as the row's final state, so it goes up exactly once.
    sql: `
      CREATE TABLE rollout_assignments (
        rollout TEXT NOT NULL,
        generation INTEGER NOT NULL,
        model TEXT NOT NULL,
        action TEXT NOT NULL,
        ref TEXT NOT NULL,
        state TEXT NOT NULL,
        version INTEGER,
        previous_version INTEGER,
        stage TEXT,
        reason TEXT,
        received_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (rollout, generation)
      );
    `,
  },
  {
    version: 8,
    name: 'local API tokens',
    // Bearer tokens of the local scoring API (`outpost tokens`, src/store/node/api-tokens.ts): only
    // the SHA-256 of each token is kept; a revoked token keeps its row (revoked_at) so its name and
    // history stay visible.
    sql: `
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_sha256 TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
      CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;
    `,
  },
  {
    version: 9,
    name: 'prediction log size; API token scopes',
    // The running total of prediction_batches.size_bytes, so retention (enforceRetention, once per
    // commit of every scoring job and record session) reads one row instead of summing the whole log.
    // Kept by triggers in the transaction of every insert and delete (retention, `jobs rm`'s
    // cascade, any process on this file): it cannot drift from the table, not after a crash either.
    // Derived from the table once here.
    sql: `
      CREATE TABLE prediction_log_size (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        bytes INTEGER NOT NULL
      );
      INSERT INTO prediction_log_size (id, bytes) SELECT 1, coalesce(sum(size_bytes), 0) FROM prediction_batches;
      CREATE TRIGGER prediction_log_size_insert AFTER INSERT ON prediction_batches
        BEGIN UPDATE prediction_log_size SET bytes = bytes + NEW.size_bytes WHERE id = 1; END;
      CREATE TRIGGER prediction_log_size_delete AFTER DELETE ON prediction_batches
        BEGIN UPDATE prediction_log_size SET bytes = bytes - OLD.size_bytes WHERE id = 1; END;
      CREATE TRIGGER prediction_log_size_update AFTER UPDATE OF size_bytes ON prediction_batches
        BEGIN UPDATE prediction_log_size SET bytes = bytes - OLD.size_bytes + NEW.size_bytes WHERE id = 1; END;
      -- The models a scoring-API token may use (a JSON array of names); NULL: every model (tokens made before).
      ALTER TABLE api_tokens ADD COLUMN models TEXT;
    `,
  },
  {
    version: 10,
    name: 'checked-card marks',
    // The card rules' id and the SHA-256 of card_json once the rules (zod) accepted that stored text
    // and returned it unchanged (src/store/node/card-mark.ts): scoring then uses the card
    // as stored without loading zod. NULL (cards stored before, or by an older version): validated
    // on the next scoring run, which marks it.
    sql: `
      ALTER TABLE models ADD COLUMN card_checked TEXT;
    `,
  },
];
