// `outpost hub init|serve|add-publisher`: run a model registry hub.
import path from 'node:path';
import { OutpostError, usageError } from '../../common/errors.ts';
import { parseDbSpec } from '../../hub/node/db-spec.ts';
import { hubPaths } from '../../hub/node/hub-dir.ts';
import { addPublisher, initHub, openHub } from '../../hub/node/repository.ts';
import { startHubServer } from '../../hub/node/server.ts';
import { loadPrivateKey, loadPublicKey } from '../../keys/node/keys.ts';
import { str, type CommandSpec, type ParsedArgs } from '../command.ts';
import { passphraseFromEnv } from './keys.ts';

const dirOf = (cwd: string, args: ParsedArgs): string => {
  const d = str(args, 'dir');
  if (!d) throw usageError('--dir <hub folder> is required');
  return path.resolve(cwd, d);
};

/** --db: a SQLite file (relative to the working directory) or a postgres:// URL; undefined: hub.json's. */
const dbOf = (cwd: string, args: ParsedArgs): string | undefined => {
  const v = str(args, 'db');
  if (v === undefined) return undefined;
  const spec = parseDbSpec(v, cwd, { code: 'usage', origin: '--db' });
  return spec.kind === 'sqlite' ? spec.file : spec.url;
};

const DB_HELP = '--db DB               database: a SQLite file or a postgres://user@host:port/database URL (default: from hub.json)';

export const hubInitCommand: CommandSpec = {
  name: 'hub init',
  summary: 'Create a hub: TUF keys and metadata, blob store, database, admin token',
  usage: 'outpost hub init --dir <d> [--db <sqlite file | postgres://…>] [--passphrase-env VAR]',
  help: [
    '--dir D               folder for the new hub (keys, blob store, hub.json)',
    '--db DB               database: a SQLite file or a postgres://user@host:port/database URL',
    '                      (default: hub.db in the hub folder); recorded in hub.json without its password',
    '--passphrase-env VAR  encrypt the offline root and targets keys with the passphrase in VAR',
  ],
  options: { dir: { type: 'string' }, db: { type: 'string' }, 'passphrase-env': { type: 'string' } },
  async run(ctx, args) {
    const dir = dirOf(ctx.cwd, args);
    const db = dbOf(ctx.cwd, args);
    const r = await initHub(dir, { passphrase: passphraseFromEnv(ctx.env, str(args, 'passphrase-env')), config: db === undefined ? {} : { db } });
    const p = hubPaths(dir);
    ctx.out.text(`hub created in ${r.dir}`);
    ctx.out.text(`  database:               ${r.db}`);
    if (r.dbPasswordNotStored) ctx.out.warn('  The database password is not stored in hub.json: give --db with it again, or set PGPASSWORD / ~/.pgpass.');
    ctx.out.text(`  trust root for devices: ${r.trustRoot}  (outpost pull … --root ${r.trustRoot})`);
    ctx.out.text(`  admin API token:        ${p.adminToken} (owner-only)`);
    ctx.out.text(`  online keys:            ${path.dirname(p.snapshotKey)} (snapshot, timestamp)`);
    ctx.out.warn(`OFFLINE KEYS: ${r.offlineKeys.join(', ')}`);
    ctx.out.warn('  These sign the root and the publisher delegations. Move them off this machine (keep a backup) and bring');
    ctx.out.warn('  the targets key back only for `outpost hub add-publisher --targets-key`. A hub holding them can forge trust.');
    ctx.out.json({ ok: true, dir: r.dir, db: r.db, trustRoot: r.trustRoot, adminTokenFile: p.adminToken, offlineKeys: r.offlineKeys, rootKeyId: r.rootKeyId });
    return 0;
  },
};

export const hubServeCommand: CommandSpec = {
  name: 'hub serve',
  summary: 'Serve a hub over HTTP (TUF metadata, blobs, publish and catalog API)',
  usage: 'outpost hub serve --dir <d> [--port P] [--host 127.0.0.1] [--db <sqlite file | postgres://…>]',
  help: [
    '--dir D     the hub folder (online keys, blobs)',
    '--port P    port (default 8470; 0 = any free port)',
    '--host H    address to listen on (default 127.0.0.1)',
    '--db DB     database: a SQLite file or a postgres://user@host:port/database URL (default: from hub.json).',
    '            Several hub processes (behind a load balancer) serve one repository when they share one',
    '            postgres:// database and the same hub folder (a shared filesystem across machines)',
  ],
  options: { dir: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, db: { type: 'string' } },
  async run(ctx, args) {
    const dir = dirOf(ctx.cwd, args);
    const portText = str(args, 'port') ?? '8470';
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`--port must be a port number (got "${portText}")`);
    const hub = await openHub(dir, { db: dbOf(ctx.cwd, args) });
    let server;
    try {
      server = await startHubServer(hub, {
        host: str(args, 'host') ?? '127.0.0.1', port,
        onError: (e) => ctx.out.warn(`hub: ${e instanceof OutpostError ? e.describe() : (e as Error).stack ?? String(e)}`),
      });
    } catch (e) {
      await hub.close();
      throw e;
    }
    ctx.out.text(`hub serving ${dir} at ${server.url} (${hub.storage.kind}: ${hub.storage.location}); Ctrl-C to stop`);
    ctx.out.event({ event: 'listening', url: server.url, storage: hub.storage.kind, db: hub.storage.location });
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    await hub.close();
    ctx.out.json({ ok: true, url: server.url, storage: hub.storage.kind });
    return 0;
  },
};

export const hubAddPublisherCommand: CommandSpec = {
  name: 'hub add-publisher',
  summary: 'Delegate model names to a publisher key (signed with the offline targets key)',
  usage: "outpost hub add-publisher --dir <d> --name <team> --key <public key> --models '<glob>' [--threshold N] [--targets-key FILE] [--db DB]",
  help: [
    '--dir D               the hub folder',
    '--name TEAM           publisher name (lower-case letters, digits, "-")',
    '--key FILE            publisher public key (repeat for several keys)',
    "--models GLOB         model names this publisher may sign, e.g. 'churn*'",
    '--threshold N         signatures required (default 1)',
    '--targets-key FILE    the offline targets key (default: <dir>/offline-keys/targets.key)',
    '--passphrase-env VAR  passphrase of the targets key',
    DB_HELP,
  ],
  options: {
    dir: { type: 'string' }, db: { type: 'string' }, name: { type: 'string' }, key: { type: 'string', multiple: true }, models: { type: 'string' },
    threshold: { type: 'string' }, 'targets-key': { type: 'string' }, 'passphrase-env': { type: 'string' },
  },
  async run(ctx, args) {
    const dir = dirOf(ctx.cwd, args);
    const name = str(args, 'name');
    const models = str(args, 'models');
    const keyFiles = (args.values.key as string[] | undefined) ?? [];
    if (!name || !models || !keyFiles.length) throw usageError('--name, --key and --models are required');
    const threshold = Number(str(args, 'threshold') ?? '1');
    const targetsKeyFile = path.resolve(ctx.cwd, str(args, 'targets-key') ?? hubPaths(dir).targetsKey);
    const targetsKey = loadPrivateKey(targetsKeyFile, passphraseFromEnv(ctx.env, str(args, 'passphrase-env')));
    const hub = await openHub(dir, { db: dbOf(ctx.cwd, args) });
    try {
      const r = await addPublisher(hub, { name, keys: keyFiles.map((f) => loadPublicKey(path.resolve(ctx.cwd, f))), threshold, modelsGlob: models, targetsKey });
      ctx.out.text(`publisher "${name}" may sign models matching ${models} (target paths ${r.paths.join(', ')}); targets metadata v${r.targetsVersion}`);
      ctx.out.text(`API token (shown once, store it safely): ${r.token}`);
      ctx.out.json({ ok: true, name, models, paths: r.paths, threshold, token: r.token, targetsVersion: r.targetsVersion });
      return 0;
    } finally {
      await hub.close();
    }
  },
};

