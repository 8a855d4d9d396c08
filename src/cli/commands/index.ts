// Every CLI command, in the order `outpost --help` lists them. Names stay stable once shipped.
// Modules load on demand: `outpost models list` should not pay for ONNX Runtime, Fastify and TUF.
// The summaries repeat each module's own (for `outpost --help` without loading them); a test keeps them equal.
import type { CommandSpec } from '../command.ts';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<CommandSpec>;
}

export const commands: CommandEntry[] = [
  { name: 'demo', summary: 'Install the bundled demo model through a throw-away signed hub and score a real sample', load: async () => (await import('./demo.ts')).demoCommand },
  { name: 'score', summary: 'Score a CSV, JSONL or Parquet file with an installed model, offline', load: async () => (await import('./score.ts')).scoreCommand },
  { name: 'predict', summary: 'Score single records (a JSON object, or JSON Lines on stdin) with an installed model, offline', load: async () => (await import('./predict.ts')).predictCommand },
  { name: 'train', summary: 'Train a model from a CSV, JSONL or Parquet file and write a model package', load: async () => (await import('./train.ts')).trainCommand },
  { name: 'baseline', summary: 'Compute a package\'s drift baseline from reference data and write it into its card', load: async () => (await import('./baseline.ts')).baselineCommand },
  { name: 'drift', summary: 'Report feature and prediction drift of a model version against its baseline', load: async () => (await import('./drift.ts')).driftCommand },
  { name: 'labels add', summary: 'Join ground-truth labels to logged predictions by the id the scoring run used (score --id)', load: async () => (await import('./labels.ts')).labelsAddCommand },
  { name: 'labels list', summary: 'Label imports (newest first) with what joined and what did not', load: async () => (await import('./labels.ts')).labelsListCommand },
  { name: 'performance', summary: 'Model performance from joined ground-truth labels, per day, hour or scoring job, with 95% intervals', load: async () => (await import('./performance.ts')).performanceCommand },
  { name: 'jobs', summary: 'List scoring jobs, newest first: status, rows read/scored/rejected, model, input and output', load: async () => (await import('./jobs.ts')).jobsCommand },
  { name: 'jobs list', summary: 'List scoring jobs, newest first: status, rows read/scored/rejected, model, input and output', load: async () => (await import('./jobs.ts')).jobsListCommand },
  { name: 'jobs show', summary: 'Show one job: status, counters, model, provider, files, reject reasons, how to resume it', load: async () => (await import('./jobs.ts')).jobsShowCommand },
  { name: 'jobs rm', summary: 'Remove a job: its record, logged predictions, output and rejects files (needs --yes)', load: async () => (await import('./jobs.ts')).jobsRmCommand },
  { name: 'predictions export', summary: 'Export logged predictions (a job, or a model from a time on) as CSV, JSON Lines or Parquet', load: async () => (await import('./predictions.ts')).predictionsExportCommand },
  { name: 'settings', summary: 'Show the settings (all, or one with what it means and the values it takes)', load: async () => (await import('./settings.ts')).settingsCommand },
  { name: 'settings get', summary: 'Show the settings (all, or one with what it means and the values it takes)', load: async () => (await import('./settings.ts')).settingsGetCommand },
  { name: 'settings set', summary: 'Change a setting (checked against the settings schema; units like 2GiB for sizes)', load: async () => (await import('./settings.ts')).settingsSetCommand },
  { name: 'settings reset', summary: 'Put a setting back to its default value', load: async () => (await import('./settings.ts')).settingsResetCommand },
  { name: 'models list', summary: 'List installed models and versions', load: async () => (await import('./models.ts')).modelsListCommand },
  { name: 'models show', summary: 'Show a model\'s card, input schema and the provider it would run on', load: async () => (await import('./models.ts')).modelsShowCommand },
  { name: 'models init', summary: 'Make a model package from an exported ONNX model (scikit-learn, PyTorch) and a data sample', load: async () => (await import('./models-init.ts')).modelsInitCommand },
  { name: 'models add', summary: 'Install a local model package folder (unsigned: needs --allow-unsigned)', load: async () => (await import('./models.ts')).modelsAddCommand },
  { name: 'models verify', summary: 'Re-hash installed model files (all, or one model\'s versions)', load: async () => (await import('./models-verify.ts')).modelsVerifyCommand },
  { name: 'models check', summary: 'Refresh signed metadata from the hubs (installs nothing); report yanked or unsigned installed versions', load: async () => (await import('./models-check.ts')).modelsCheckCommand },
  { name: 'models rollback', summary: 'Make the previously active version of a model active again', load: async () => (await import('./models-rollback.ts')).modelsRollbackCommand },
  { name: 'models activate', summary: 'Make an installed version the active one (any installed version; recorded)', load: async () => (await import('./models-rollback.ts')).modelsActivateCommand },
  { name: 'models remove', summary: 'Remove an installed version: its files and records (prediction logs stay); not the active one unless --force', load: async () => (await import('./models-rollback.ts')).modelsRemoveCommand },
  { name: 'serve', summary: 'Serve the Outpost app UI to a browser on this machine (127.0.0.1 only, token-protected)', load: async () => (await import('./serve.ts')).serveCommand },
  { name: 'pull', summary: 'Download, verify (TUF) and install a model version from a hub', load: async () => (await import('./pull.ts')).pullCommand },
  { name: 'connect', summary: 'Enroll this workstation with a hub (device key + one-time code); sync and pull then use that hub', load: async () => (await import('./sync.ts')).connectCommand },
  { name: 'sync', summary: 'Send what is waiting (predictions, drift statistics, events) to the hub and refresh its signed metadata', load: async () => (await import('./sync.ts')).syncCommand },
  { name: 'sync status', summary: 'What is waiting to sync, since when, the last success and the last error', load: async () => (await import('./sync.ts')).syncStatusCommand },
  { name: 'publish', summary: 'Sign a model package with a publisher key and publish it to a hub', load: async () => (await import('./publish.ts')).publishCommand },
  { name: 'hub yank', summary: 'Yank a published version (signed by its publisher): devices refuse new installs and flag installed copies', load: async () => (await import('./publish.ts')).hubYankCommand },
  { name: 'keys generate', summary: 'Create a signing key pair (private key owner-only, public key at <file>.pub)', load: async () => (await import('./keys.ts')).keysGenerateCommand },
  { name: 'hub init', summary: 'Create a hub: TUF keys and metadata, blob store, database, admin token', load: async () => (await import('./hub.ts')).hubInitCommand },
  { name: 'hub serve', summary: 'Serve a hub over HTTPS or HTTP (TUF metadata, blobs, publish and catalog API)', load: async () => (await import('./hub.ts')).hubServeCommand },
  { name: 'hub publishers', summary: 'List the publishers a hub delegates to: model names, keys, threshold, metadata expiry', load: async () => (await import('./hub.ts')).hubPublishersCommand },
  { name: 'hub upload-metadata', summary: 'Upload offline-signed root/targets metadata (written by an offline command with --out) to a hub', load: async () => (await import('./hub.ts')).hubUploadMetadataCommand },
  { name: 'hub online-keys', summary: 'Make new online (snapshot, timestamp) keys on the hub, for a rotation the offline root then signs', load: async () => (await import('./hub.ts')).hubOnlineKeysCommand },
  { name: 'hub add-publisher', summary: 'Delegate model names to a publisher key, or change a publisher\'s keys (offline targets key)', load: async () => (await import('./hub-offline.ts')).hubAddPublisherCommand },
  { name: 'hub revoke-publisher', summary: 'Withdraw a publisher\'s delegation: devices stop installing its models (offline targets key)', load: async () => (await import('./hub-offline.ts')).hubRevokePublisherCommand },
  { name: 'hub targets renew', summary: 'Re-sign the top-level targets metadata with a later expiry (offline targets key)', load: async () => (await import('./hub-offline.ts')).hubTargetsRenewCommand },
  { name: 'hub root renew', summary: 'Sign the next root version with a later expiry, same keys (offline root key)', load: async () => (await import('./hub-offline.ts')).hubRootRenewCommand },
  { name: 'hub root rotate', summary: 'Replace root, targets and/or online keys in a new root version, cross-signed by the old root key', load: async () => (await import('./hub-offline.ts')).hubRootRotateCommand },
  { name: 'hub devices add', summary: 'Create a one-time enrollment code for a new workstation (expires; single use)', load: async () => (await import('./hub-fleet.ts')).hubDevicesAddCommand },
  { name: 'hub devices list', summary: 'Every enrolled workstation: group, last seen, version, models, rows scored, items waiting, open alerts', load: async () => (await import('./hub-fleet.ts')).hubDevicesListCommand },
  { name: 'hub devices revoke', summary: 'Revoke a workstation: its signed requests are refused (403) from now on', load: async () => (await import('./hub-fleet.ts')).hubDevicesRevokeCommand },
  { name: 'hub drift', summary: 'Fleet drift of a model version: the exact merge of the workstations\' window statistics', load: async () => (await import('./hub-fleet.ts')).hubDriftCommand },
  { name: 'hub events', summary: 'Alerts, security events, model changes and dropped items across the fleet, newest first', load: async () => (await import('./hub-fleet.ts')).hubEventsCommand },
  { name: 'hub export predictions', summary: 'Write the predictions workstations synced as Parquet (for DuckDB, pandas)', load: async () => (await import('./hub-fleet.ts')).hubExportPredictionsCommand },
];
