// Every CLI command, in the order `outpost --help` lists them. Names stay stable once shipped.
// Modules load on demand: `outpost models list` should not pay for ONNX Runtime, Fastify and TUF.
// The summaries repeat each module's own (for `outpost --help` without loading them); a test keeps them equal.
import type { CommandSpec } from '../command.ts';
// Static, not import(): a dynamic import sharing modules with the command's graph settles only once that whole graph has loaded.
import { selectOrtRuntime } from '../../inference/node/ort-runtime.ts';
import { prestartInferenceWorker } from '../../inference/node/spare-worker.ts';

/** Before a scoring command loads: this process's ONNX Runtime files (the data folder's GPU runtime when intact), then the spare inference worker. */
const prestartScoring = (home: string): void => {
  selectOrtRuntime(home);
  prestartInferenceWorker();
};

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<CommandSpec>;
  /** start what the command will need before its modules load (an inference worker), so the two overlap; gets the data folder */
  prestart?: (home: string) => void;
  /** the launcher ends the process as soon as the command returns, when nothing it started still runs (`mayEndNow` in ../main.ts) */
  endsAtOnce?: boolean;
}

export const commands: CommandEntry[] = [
  { name: 'demo', summary: 'Install the bundled demo model through a throw-away signed hub and score a real sample', load: async () => (await import('./demo.ts')).demoCommand },
  { name: 'score', summary: 'Score a CSV, JSONL or Parquet file with an installed model, offline', load: async () => (await import('./score.ts')).scoreCommand, prestart: prestartScoring, endsAtOnce: true },
  { name: 'predict', summary: 'Score single records (a JSON object, or JSON Lines on stdin) with an installed model, offline; logged like a scoring job', load: async () => (await import('./predict.ts')).predictCommand, prestart: prestartScoring, endsAtOnce: true },
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
  { name: 'retrain', summary: 'Train a challenger with the champion\'s recipe on recent labelled data and propose it (never activates it)', load: async () => (await import('./retrain.ts')).retrainCommand },
  { name: 'proposals', summary: 'Retrained challengers awaiting a decision, and what became of earlier ones', load: async () => (await import('./retrain.ts')).proposalsCommand },
  { name: 'proposals list', summary: 'Retrained challengers awaiting a decision, and what became of earlier ones', load: async () => (await import('./retrain.ts')).proposalsListCommand },
  { name: 'proposals show', summary: 'One proposal: data, champion vs challenger on the held-out rows, the decision', load: async () => (await import('./retrain.ts')).proposalsShowCommand },
  { name: 'proposals activate', summary: 'Install a proposal\'s challenger as a local unsigned version and make it active (recorded)', load: async () => (await import('./retrain.ts')).proposalsActivateCommand },
  { name: 'proposals dismiss', summary: 'Dismiss a proposal (its package is removed; the record stays)', load: async () => (await import('./retrain.ts')).proposalsDismissCommand },
  { name: 'models list', summary: 'List installed models and versions', load: async () => (await import('./models-list.ts')).modelsListCommand, endsAtOnce: true },
  { name: 'models show', summary: 'Show a model\'s card, input schema and the provider it would run on', load: async () => (await import('./models.ts')).modelsShowCommand },
  { name: 'models init', summary: 'Make a model package from an exported ONNX model (scikit-learn, PyTorch) and a data sample', load: async () => (await import('./models-init.ts')).modelsInitCommand },
  { name: 'models add', summary: 'Install a local model package folder (unsigned: needs --allow-unsigned)', load: async () => (await import('./models.ts')).modelsAddCommand },
  { name: 'models verify', summary: 'Re-hash installed model files (all, or one model\'s versions)', load: async () => (await import('./models-verify.ts')).modelsVerifyCommand },
  { name: 'models check', summary: 'Refresh signed metadata from the hubs (installs nothing); report yanked or unsigned installed versions', load: async () => (await import('./models-check.ts')).modelsCheckCommand },
  { name: 'models rollback', summary: 'Make the previously active version of a model active again', load: async () => (await import('./models-rollback.ts')).modelsRollbackCommand },
  { name: 'models activate', summary: 'Make an installed version the active one (any installed version; recorded)', load: async () => (await import('./models-rollback.ts')).modelsActivateCommand },
  { name: 'models remove', summary: 'Remove an installed version: its files and records (prediction logs stay); not the active one unless --force', load: async () => (await import('./models-rollback.ts')).modelsRemoveCommand },
  { name: 'serve', summary: 'Serve the Outpost app UI to a browser on this machine (127.0.0.1 only, token-protected); --api adds the local scoring API', load: async () => (await import('./serve.ts')).serveCommand },
  { name: 'tokens', summary: 'List the local API\'s tokens (names, created, last used, revoked; never the secrets)', load: async () => (await import('./tokens.ts')).tokensCommand },
  { name: 'tokens create', summary: 'Create a bearer token for the local scoring API (printed once; only its hash is stored)', load: async () => (await import('./tokens.ts')).tokensCreateCommand },
  { name: 'tokens list', summary: 'List the local API\'s tokens (names, created, last used, revoked; never the secrets)', load: async () => (await import('./tokens.ts')).tokensListCommand },
  { name: 'tokens revoke', summary: 'Revoke a local API token by name or id (refused from the next request on, by every running server)', load: async () => (await import('./tokens.ts')).tokensRevokeCommand },
  { name: 'pull', summary: 'Download, verify (TUF) and install a model version from a hub', load: async () => (await import('./pull.ts')).pullCommand },
  { name: 'connect', summary: 'Enroll this workstation with a hub (device key + one-time code); sync and pull then use that hub', load: async () => (await import('./sync.ts')).connectCommand },
  { name: 'propose', summary: 'Send a local retrained challenger (model, card, comparison with the champion) to the connected hub as a proposal', load: async () => (await import('./propose.ts')).proposeCommand },
  { name: 'sync', summary: 'Send what is waiting (predictions, drift statistics, events) to the hub and refresh its signed metadata', load: async () => (await import('./sync.ts')).syncCommand },
  { name: 'sync status', summary: 'What is waiting to sync, since when, the last success and the last error', load: async () => (await import('./sync.ts')).syncStatusCommand },
  { name: 'sync ack', summary: 'Apply a receipt from `hub import --receipt` (signed by the hub): the imported items are marked sent and pruned later', load: async () => (await import('./outbox.ts')).syncAckCommand },
  { name: 'updates', summary: 'Model versions the hub rolled out to this workstation: offered (policy ask), installed, failed and why', load: async () => (await import('./updates.ts')).updatesCommand },
  { name: 'updates install', summary: 'Install an update the hub offered (policy ask): verified pull, then active; reported at the next sync', load: async () => (await import('./updates.ts')).updatesInstallCommand },
  { name: 'sync export', summary: 'Write everything waiting to sync, signed by this workstation\'s key, to a file for `outpost hub import` (air-gapped sites)', load: async () => (await import('./outbox.ts')).syncExportCommand },
  { name: 'publish', summary: 'Sign a model package with a publisher key and publish it to a hub', load: async () => (await import('./publish.ts')).publishCommand },
  { name: 'hub yank', summary: 'Yank a published version (signed by its publisher): devices refuse new installs and flag installed copies', load: async () => (await import('./publish.ts')).hubYankCommand },
  { name: 'keys generate', summary: 'Create a signing key pair (private key owner-only, public key at <file>.pub)', load: async () => (await import('./keys.ts')).keysGenerateCommand },
  { name: 'app update', summary: 'Check the hub for a newer signed Outpost release for this platform; download, verify (TUF) and stage it', load: async () => (await import('./app-update.ts')).appUpdateCommand },
  { name: 'hub app publish', summary: 'Sign an Outpost installer as an app release for one platform and publish it to a hub', load: async () => (await import('./app-update.ts')).hubAppPublishCommand },
  { name: 'gpu', summary: 'The GPU runtime (ONNX Runtime\'s CUDA libraries): installed and intact?, the driver and CUDA libraries, what the hub offers', load: async () => (await import('./gpu.ts')).gpuCommand },
  { name: 'gpu status', summary: 'The GPU runtime (ONNX Runtime\'s CUDA libraries): installed and intact?, the driver and CUDA libraries, what the hub offers', load: async () => (await import('./gpu.ts')).gpuStatusCommand },
  { name: 'gpu install', summary: 'Download ONNX Runtime\'s CUDA libraries from the connected hub, verify them (TUF) and install them in the data folder', load: async () => (await import('./gpu.ts')).gpuInstallCommand },
  { name: 'gpu remove', summary: 'Remove the GPU runtime from the data folder (ONNX Runtime loads from the app again, CPU and bundled providers only)', load: async () => (await import('./gpu.ts')).gpuRemoveCommand },
  { name: 'hub runtime publish', summary: 'Sign ONNX Runtime\'s GPU package (the .nupkg `npm run setup:cuda` downloads) as a GPU runtime and publish it to a hub', load: async () => (await import('./gpu.ts')).hubRuntimePublishCommand },
  { name: 'hub init', summary: 'Create a hub: TUF keys and metadata, blob store, database, admin token', load: async () => (await import('./hub.ts')).hubInitCommand },
  { name: 'hub serve', summary: 'Serve a hub over HTTPS or HTTP: TUF metadata and blobs, publishing, fleet sync and enrollment, the web console and its admin API', load: async () => (await import('./hub.ts')).hubServeCommand },
  { name: 'hub publishers', summary: 'List the publishers a hub delegates to: model names, keys, threshold, metadata expiry', load: async () => (await import('./hub.ts')).hubPublishersCommand },
  { name: 'hub upload-metadata', summary: 'Upload offline-signed root/targets metadata (written by an offline command with --out) to a hub', load: async () => (await import('./hub.ts')).hubUploadMetadataCommand },
  { name: 'hub admin-token rotate', summary: 'Replace the hub\'s admin token: the old one and every console session signed in with it stop working at once', load: async () => (await import('./hub.ts')).hubAdminTokenRotateCommand },
  { name: 'hub online-keys', summary: 'Make new online (snapshot, timestamp) keys on the hub, for a rotation the offline root then signs', load: async () => (await import('./hub.ts')).hubOnlineKeysCommand },
  { name: 'hub bundle', summary: 'Write a model version\'s signed TUF metadata and files into one file for an air-gapped workstation (pull --bundle)', load: async () => (await import('./hub-bundle.ts')).hubBundleCommand },
  { name: 'hub import', summary: 'Ingest an outbox a workstation exported (`sync export`): signature checked, each item kept once', load: async () => (await import('./outbox.ts')).hubImportCommand },
  { name: 'hub add-publisher', summary: 'Delegate model names to a publisher key, or change a publisher\'s keys (offline targets key)', load: async () => (await import('./hub-offline.ts')).hubAddPublisherCommand },
  { name: 'hub revoke-publisher', summary: 'Withdraw a publisher\'s delegation: devices stop installing its models (offline targets key)', load: async () => (await import('./hub-offline.ts')).hubRevokePublisherCommand },
  { name: 'hub targets renew', summary: 'Re-sign the top-level targets metadata with a later expiry (offline targets key)', load: async () => (await import('./hub-offline.ts')).hubTargetsRenewCommand },
  { name: 'hub root renew', summary: 'Sign the next root version with a later expiry, same keys (offline root key)', load: async () => (await import('./hub-offline.ts')).hubRootRenewCommand },
  { name: 'hub root rotate', summary: 'Replace root, targets and/or online keys in a new root version, cross-signed by the old root key', load: async () => (await import('./hub-offline.ts')).hubRootRotateCommand },
  { name: 'hub devices add', summary: 'Create a one-time enrollment code for a new workstation (expires; single use)', load: async () => (await import('./hub-fleet.ts')).hubDevicesAddCommand },
  { name: 'hub devices list', summary: 'Every enrolled workstation: group, last seen, version, models, rows scored, backlog, open alerts, health', load: async () => (await import('./hub-fleet.ts')).hubDevicesListCommand },
  { name: 'hub devices codes', summary: 'Enrollment codes not used yet: device name, group, created, expires, state (the hub keeps only their hash, never the code)', load: async () => (await import('./hub-fleet.ts')).hubDevicesCodesCommand },
  { name: 'hub devices codes cancel', summary: 'Cancel a workstation\'s unused enrollment code: `outpost connect --code` with it is refused from now on', load: async () => (await import('./hub-fleet.ts')).hubDevicesCodesCancelCommand },
  { name: 'hub devices revoke', summary: 'Revoke a workstation: its signed requests are refused (403) from now on', load: async () => (await import('./hub-fleet.ts')).hubDevicesRevokeCommand },
  { name: 'hub proposals list', summary: 'Proposals workstations sent (retrained challengers): device, comparison with the champion, status', load: async () => (await import('./propose.ts')).hubProposalsListCommand },
  { name: 'hub proposals show', summary: 'One proposal: the device, the card with its lineage, both models\' metrics on the held-out rows', load: async () => (await import('./propose.ts')).hubProposalsShowCommand },
  { name: 'hub proposals accept', summary: 'Publish a proposal: signed by the publisher\'s key (as `outpost publish`), then pulled by the fleet like any version', load: async () => (await import('./propose.ts')).hubProposalsAcceptCommand },
  { name: 'hub proposals reject', summary: 'Reject a proposal (kept, with the reason; nothing is published)', load: async () => (await import('./propose.ts')).hubProposalsRejectCommand },
  { name: 'hub labels', summary: 'Ground-truth labels the workstations synced, per device and model version', load: async () => (await import('./propose.ts')).hubLabelsCommand },
  { name: 'hub drift', summary: 'Fleet drift of a model version: the exact merge of the workstations\' window statistics', load: async () => (await import('./hub-fleet.ts')).hubDriftCommand },
  { name: 'hub events', summary: 'Alerts, security events, model changes and dropped items across the fleet, newest first', load: async () => (await import('./hub-fleet.ts')).hubEventsCommand },
  { name: 'hub export predictions', summary: 'Write the predictions workstations synced as Parquet (for DuckDB, pandas)', load: async () => (await import('./hub-fleet.ts')).hubExportPredictionsCommand },
  { name: 'hub rollout', summary: 'Roll what a signed alias points to out to a group of workstations (or a stable percentage of it); they follow on their next sync', load: async () => (await import('./hub-rollout.ts')).hubRolloutCommand },
  { name: 'hub rollout list', summary: 'Rollouts, newest first, with their progress (running, failed, available, pending, stopped)', load: async () => (await import('./hub-rollout.ts')).hubRolloutListCommand },
  { name: 'hub rollout status', summary: 'One rollout, device by device: running, failed (the pull stage that refused and why), available, pending, stopped (halted or superseded before it moved the device), unaffected', load: async () => (await import('./hub-rollout.ts')).hubRolloutStatusCommand },
  { name: 'hub rollout halt', summary: 'Halt a rollout: workstations that have not installed it will not; those that did keep it', load: async () => (await import('./hub-rollout.ts')).hubRolloutHaltCommand },
  { name: 'hub rollout rollback', summary: 'Roll a rollout back: its workstations return to the version each ran before (or --to V) on their next sync', load: async () => (await import('./hub-rollout.ts')).hubRolloutRollbackCommand },
];
