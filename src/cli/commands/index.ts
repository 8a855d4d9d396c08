// Every CLI command, in the order `outpost --help` lists them. Names stay stable once shipped.
// Modules load on demand: `outpost models list` should not pay for ONNX Runtime, Fastify and TUF.
import type { CommandSpec } from '../command.ts';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<CommandSpec>;
}

export const commands: CommandEntry[] = [
  { name: 'demo', summary: 'Install the bundled demo model through a throw-away signed hub and score a real sample', load: async () => (await import('./demo.ts')).demoCommand },
  { name: 'score', summary: 'Score a CSV, JSONL or Parquet file with an installed model, offline', load: async () => (await import('./score.ts')).scoreCommand },
  { name: 'models list', summary: 'List installed models and versions, with who signed them', load: async () => (await import('./models.ts')).modelsListCommand },
  { name: 'models show', summary: 'Show a model\'s card, input schema and the provider it would run on', load: async () => (await import('./models.ts')).modelsShowCommand },
  { name: 'models add', summary: 'Install a local model package folder (unsigned: needs --allow-unsigned)', load: async () => (await import('./models.ts')).modelsAddCommand },
  { name: 'models verify', summary: 'Re-hash installed model files against what was verified at install', load: async () => (await import('./models-verify.ts')).modelsVerifyCommand },
  { name: 'models rollback', summary: 'Make the previously active version of a model active again', load: async () => (await import('./models-rollback.ts')).modelsRollbackCommand },
  { name: 'pull', summary: 'Download, verify (TUF) and install a signed model version from a hub', load: async () => (await import('./pull.ts')).pullCommand },
  { name: 'publish', summary: 'Sign a model package with a publisher key and publish it to a hub', load: async () => (await import('./publish.ts')).publishCommand },
  { name: 'keys generate', summary: 'Create a signing key pair (Ed25519 or ECDSA P-256)', load: async () => (await import('./keys.ts')).keysGenerateCommand },
  { name: 'hub init', summary: 'Create a hub: TUF keys and metadata, blob store, database, admin token', load: async () => (await import('./hub.ts')).hubInitCommand },
  { name: 'hub serve', summary: 'Serve a hub (TUF repository, blobs, publish and catalog API)', load: async () => (await import('./hub.ts')).hubServeCommand },
  { name: 'hub add-publisher', summary: 'Delegate model names to a publisher key and issue its API token', load: async () => (await import('./hub.ts')).hubAddPublisherCommand },
];
