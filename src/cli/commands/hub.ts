// `outpost hub init|serve|publishers|upload-metadata|online-keys`: run a model registry hub. The
// commands that need the offline keys are in hub-offline.ts.
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError, usageError } from '../../common/errors.ts';
import { uploadSignedUpdate } from '../../hub/node/admin-client.ts';
import { parseDbSpec } from '../../hub/node/db-spec.ts';
import { hubPaths } from '../../hub/node/hub-dir.ts';
import { ONLINE_ROLES } from '../../hub/node/online-keys.ts';
import { expiringRoles, initHub, openHub, repoState, rotateAdminToken, type AppliedUpdate } from '../../hub/node/repository.ts';
import { startHubServer } from '../../hub/node/server.ts';
import { HUB_OPTS, withHub } from './hub-fleet.ts';
import { ensureRenderer } from '../../api/node/renderer-build.ts';
import { loadTlsFiles } from '../../hub/node/tls-files.ts';
import { delegationsOf, type SignedUpdate } from '../../hub/node/signing.ts';
import { globOfPaths } from '../../hub/common/delegations.ts';
import { str, wholeNumber, type CommandContext, type CommandSpec, type ParsedArgs } from '../command.ts';
import { allowHttp, ALLOW_HTTP_HELP, ALLOW_HTTP_OPTION, CA_HELP, CA_OPTION, hubTrust } from '../hub-access.ts';
import { passphraseFromEnv } from './keys.ts';

export const dirOf = (cwd: string, args: ParsedArgs): string => {
  const d = str(args, 'dir');
  if (!d) throw usageError('--dir <hub folder> is required');
  return path.resolve(cwd, d);
};

/** --db: a SQLite file (relative to the working directory) or a postgres:// URL; undefined: hub.json's. */
export const dbOf = (cwd: string, args: ParsedArgs): string | undefined => {
  const v = str(args, 'db');
  if (v === undefined) return undefined;
  const spec = parseDbSpec(v, cwd, { code: 'usage', origin: '--db' });
  return spec.kind === 'sqlite' ? spec.file : spec.url;
};

export const DB_HELP = '--db DB               database: a SQLite file or a postgres://user@host:port/database URL (default: from hub.json)';

export const adminTokenOf = (ctx: CommandContext, args: ParsedArgs): string => {
  const t = str(args, 'token') ?? ctx.env.OUTPOST_ADMIN_TOKEN;
  if (!t) throw usageError('--token <admin token> (or $OUTPOST_ADMIN_TOKEN) is required: the hub\'s admin.token');
  return t;
};

/** Print what an applied update changed, and any new publisher tokens (shown once). */
export function reportApplied(ctx: CommandContext, r: AppliedUpdate): void {
  for (const c of r.changes) (/^(KEY CHANGE|REVOKED|RE-DELEGATION|FORCED)/.test(c) ? ctx.out.warn : ctx.out.text)(c);
  if (r.rootVersion !== undefined) ctx.out.text(`root is now v${r.rootVersion}${r.onlineKeysRotated ? ' (online keys rotated: devices drop their stored timestamp and snapshot)' : ''}`);
  if (r.targetsVersion !== undefined) ctx.out.text(`targets metadata is now v${r.targetsVersion}`);
  for (const t of r.tokens) ctx.out.text(`API token for publisher "${t.name}" (shown once, store it safely): ${t.token}`);
}

export const hubInitCommand: CommandSpec = {
  name: 'hub init',
  summary: 'Create a hub: TUF keys and metadata, blob store, database, admin token',
  usage: 'outpost hub init --dir <d> [--offline-keys <folder outside d>] [--db <sqlite file | postgres://…>] [--passphrase-env VAR]',
  help: [
    '--dir D               folder for the new hub (online keys, blob store, hub.json)',
    '--offline-keys K      where to create the offline root and targets keys: a folder OUTSIDE the hub',
    '                      folder, ideally a removable disk (default: <D>.offline-keys beside the hub folder)',
    '--db DB               database: a SQLite file or a postgres://user@host:port/database URL',
    '                      (default: hub.db in the hub folder); recorded in hub.json without its password',
    '--passphrase-env VAR  encrypt the offline root and targets keys with the passphrase in VAR',
  ],
  options: { dir: { type: 'string' }, db: { type: 'string' }, 'passphrase-env': { type: 'string' }, 'offline-keys': { type: 'string' } },
  async run(ctx, args) {
    const dir = dirOf(ctx.cwd, args);
    const db = dbOf(ctx.cwd, args);
    const off = str(args, 'offline-keys');
    const r = await initHub(dir, { offlineKeysDir: off === undefined ? undefined : path.resolve(ctx.cwd, off), passphrase: passphraseFromEnv(ctx.env, str(args, 'passphrase-env')), config: db === undefined ? {} : { db } });
    const p = hubPaths(dir);
    ctx.out.text(`hub created in ${r.dir}`);
    ctx.out.text(`  database:               ${r.db}`);
    if (r.dbPasswordNotStored) ctx.out.warn('  The database password is not stored in hub.json: give --db with it again, or set PGPASSWORD / ~/.pgpass.');
    ctx.out.text(`  trust root for devices: ${r.trustRoot}  (outpost pull … --root ${r.trustRoot})`);
    ctx.out.text(`  admin API token:        ${p.adminToken} (owner-only)`);
    ctx.out.text(`  online keys:            ${p.onlineKeys} (snapshot, timestamp)`);
    ctx.out.warn(`OFFLINE KEYS (root, targets) are in ${r.offlineKeysDir}, outside the hub folder.`);
    ctx.out.warn('  They sign the root of trust and the publisher delegations. Move that folder off this machine (keep a');
    ctx.out.warn('  backup) and bring it back only for `outpost hub add-publisher | revoke-publisher | targets renew |');
    ctx.out.warn('  root renew | root rotate --offline-keys <folder>`. Whoever holds them can forge trust.');
    ctx.out.json({ ok: true, dir: r.dir, db: r.db, trustRoot: r.trustRoot, adminTokenFile: p.adminToken, offlineKeysDir: r.offlineKeysDir, offlineKeys: r.offlineKeys, rootKeyId: r.rootKeyId });
    return 0;
  },
};

export const hubServeCommand: CommandSpec = {
  name: 'hub serve',
  summary: 'Serve a hub over HTTPS or HTTP: TUF metadata and blobs, publishing, fleet sync and enrollment, the web console and its admin API',
  usage: 'outpost hub serve --dir <d> [--port P] [--host 127.0.0.1] [--tls-cert cert.pem --tls-key key.pem] [--db <sqlite file | postgres://…>] [--console-host NAME[:PORT],…] [--no-console]',
  help: [
    '--dir D          the hub folder (online keys, blobs)',
    '--port P         port (default 8470; 0 = any free port)',
    '--host H         address to listen on (default 127.0.0.1: this machine only). A fleet: 0.0.0.0 (every',
    '                 IPv4 interface), :: (every interface), or one interface\'s address; see the README',
    '--tls-cert F     serve HTTPS with this PEM certificate (the full chain, leaf first) ...',
    '--tls-key F      ... and its PEM private key (unencrypted; keep it owner-only). Without them the hub',
    '                 speaks plain HTTP: fine on loopback or behind a TLS reverse proxy',
    '--db DB          database: a SQLite file or a postgres://user@host:port/database URL (default: from hub.json).',
    '                 Several hub processes (behind a load balancer) serve one repository when they share one',
    '                 postgres:// database and the same hub folder (a shared filesystem across machines)',
    '--console-host H further names the web console (at /) answers to, comma-separated (a reverse proxy\'s',
    '                 public name, e.g. hub.example.com). The console refuses other Host headers (DNS rebinding)',
    '--no-console     serve no web console (the admin API still answers the admin token)',
  ],
  options: {
    dir: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, db: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' },
    'console-host': { type: 'string' }, 'no-console': { type: 'boolean' },
  },
  async run(ctx, args) {
    const dir = dirOf(ctx.cwd, args);
    const port = wholeNumber(args, 'port', 0, 65535) ?? 8470;
    const certFile = str(args, 'tls-cert');
    const keyFile = str(args, 'tls-key');
    if ((certFile === undefined) !== (keyFile === undefined)) throw usageError('--tls-cert and --tls-key go together (the certificate and its private key)');
    const tlsFiles = certFile && keyFile ? loadTlsFiles(path.resolve(ctx.cwd, certFile), path.resolve(ctx.cwd, keyFile)) : undefined;
    const host = str(args, 'host') ?? '127.0.0.1';
    const consoleHosts = (str(args, 'console-host') ?? '').split(',').map((h) => h.trim()).filter(Boolean);
    const bad = consoleHosts.find((h) => !/^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/.test(h));
    if (bad !== undefined) throw usageError(`--console-host takes host names or host:port, comma-separated (got "${bad}")`);
    // The console's UI: a source checkout builds it on first use (like \`outpost serve\`).
    let staticDir: string | null = null;
    if (args.values['no-console'] !== true) {
      try {
        staticDir = await ensureRenderer((l) => ctx.out.text(l));
      } catch (e) {
        ctx.out.warn(`WARNING: the hub console is not served: ${e instanceof OutpostError ? e.message : (e as Error).message}`);
      }
    }
    const hub = await openHub(dir, { db: dbOf(ctx.cwd, args) });
    let server;
    let expiryTimer: NodeJS.Timeout | undefined;
    try {
      if (fs.existsSync(hubPaths(dir).legacyOfflineKeys)) ctx.out.warn(`WARNING: ${hubPaths(dir).legacyOfflineKeys} holds offline keys inside the hub folder; move it off this machine (use it with --offline-keys)`);
      // at start, then once a day while serving: a hub runs for months, its roles expire in place
      const warned = new Set<string>();
      const within30 = (iso: string) => new Date(iso).getTime() - hub.now().getTime() < 30 * 86_400_000;
      const warnExpiring = async () => {
        for (const e of await expiringRoles(hub)) {
          const id = `${e.role}@${e.version}:${e.expired}`;
          if (warned.has(id)) continue;
          warned.add(id);
          const online = e.role === 'snapshot' || e.role === 'timestamp';
          ctx.out.warn(`WARNING: ${e.role} metadata v${e.version} ${e.expired ? 'EXPIRED' : 'expires'} ${e.expires}${!e.expired && within30(e.expires) ? ' (within 30 days)' : ''}: devices refuse expired metadata; ${online ? '' : 'renew it: '}${e.fix}`);
          ctx.out.event({ event: 'expiring', ...e });
        }
        if (tlsFiles && within30(tlsFiles.validTo.toISOString())) {
          const expired = tlsFiles.validTo.getTime() <= hub.now().getTime();
          const id = `tls:${expired}`;
          if (warned.has(id)) return;
          warned.add(id);
          ctx.out.warn(`WARNING: the TLS certificate ${certFile} ${expired ? 'EXPIRED' : 'expires'} ${tlsFiles.validTo.toISOString()}${expired ? '' : ' (within 30 days)'}: devices refuse an expired certificate; replace it and restart the hub`);
          ctx.out.event({ event: 'expiring', role: 'tls-certificate', expires: tlsFiles.validTo.toISOString(), expired });
        }
      };
      await warnExpiring();
      const everySeconds = Number(ctx.env.OUTPOST_HUB_EXPIRY_CHECK_SECONDS ?? 86_400);
      expiryTimer = setInterval(() => {
        warnExpiring().catch((e: unknown) => ctx.out.warn(`hub: cannot check metadata expiry: ${e instanceof OutpostError ? e.describe() : (e as Error).message}`));
      }, (Number.isFinite(everySeconds) && everySeconds > 0 ? everySeconds : 86_400) * 1000);
      expiryTimer.unref();
      if (!tlsFiles && !/^(127(?:\.\d{1,3}){3}|::1|localhost)$/i.test(host)) {
        ctx.out.warn(`WARNING: serving plain HTTP on ${host}: publisher and admin tokens would cross the network in clear (clients refuse to send them without --allow-http). Use --tls-cert/--tls-key, or a TLS reverse proxy in front of a hub bound to 127.0.0.1`);
      }
      server = await startHubServer(hub, {
        host, port, console: { staticDir }, consoleHosts, warmConsole: true, ...(tlsFiles ? { tls: { cert: tlsFiles.cert, key: tlsFiles.key } } : {}),
        onError: (e) => ctx.out.warn(`hub: ${e instanceof OutpostError ? e.describe() : (e as Error).stack ?? String(e)}`),
      });
    } catch (e) {
      clearInterval(expiryTimer);
      await hub.close();
      throw e;
    }
    ctx.out.text(`hub serving ${dir} at ${server.url} (${hub.storage.kind}: ${hub.storage.location})${tlsFiles ? `; TLS certificate for ${tlsFiles.altNames || tlsFiles.subject}, valid until ${tlsFiles.validTo.toISOString()}` : ''}; Ctrl-C to stop`);
    ctx.out.event({ event: 'listening', url: server.url, storage: hub.storage.kind, db: hub.storage.location, tls: tlsFiles !== undefined });
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    clearInterval(expiryTimer);
    await server.close();
    await hub.close();
    ctx.out.json({ ok: true, url: server.url, storage: hub.storage.kind });
    return 0;
  },
};

export const hubPublishersCommand: CommandSpec = {
  name: 'hub publishers',
  summary: 'List the publishers a hub delegates to: model names, keys, threshold, metadata expiry',
  usage: 'outpost hub publishers --dir <d> [--db DB]',
  help: ['--dir D               the hub folder', DB_HELP],
  options: { dir: { type: 'string' }, db: { type: 'string' } },
  async run(ctx, args) {
    const hub = await openHub(dirOf(ctx.cwd, args), { db: dbOf(ctx.cwd, args) });
    try {
      const state = await repoState(hub.storage);
      const list = delegationsOf(state.targets.signed).map((d, i) => {
        const md = state.roleMetadata(d.name);
        return { order: i + 1, name: d.name, models: globOfPaths(d.paths) ?? d.paths.join(' '), terminating: state.targets.signed.delegations?.roles?.[d.name]?.terminating ?? false, keyIds: d.keyIds, threshold: d.threshold, metadataVersion: md?.signed.version ?? null, expires: md?.signed.expires ?? null };
      });
      ctx.out.json({ ok: true, targetsVersion: state.targets.signed.version, targetsExpires: state.targets.signed.expires, publishers: list });
      ctx.out.text(`targets metadata v${state.targets.signed.version}, expires ${state.targets.signed.expires}; model-name globs never overlap, each delegation is terminating`);
      if (!list.length) ctx.out.text('no publishers yet (outpost hub add-publisher)');
      for (const p of list) {
        ctx.out.text(`${p.order}. ${p.name.padEnd(20)} models ${p.models.padEnd(16)} ${p.threshold} of ${p.keyIds.map((k) => k.slice(0, 16)).join(', ')}${p.terminating ? ', terminating' : ''}; ${p.metadataVersion === null ? 'nothing published yet' : `metadata v${p.metadataVersion}, expires ${p.expires}`}`);
      }
      return 0;
    } finally {
      await hub.close();
    }
  },
};

export const hubUploadMetadataCommand: CommandSpec = {
  name: 'hub upload-metadata',
  summary: 'Upload offline-signed root/targets metadata (written by an offline command with --out) to a hub',
  usage: 'outpost hub upload-metadata <file> --hub <url> --token <admin token>',
  help: [
    '--hub URL     the hub',
    '--token T     the hub\'s admin token (<hub>/admin.token; or $OUTPOST_ADMIN_TOKEN, which keeps it out of `ps`)',
    ...CA_HELP,
    ALLOW_HTTP_HELP,
  ],
  options: { hub: { type: 'string' }, token: { type: 'string' }, ...CA_OPTION, ...ALLOW_HTTP_OPTION },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const hubUrl = str(args, 'hub') ?? ctx.env.OUTPOST_HUB;
    if (!hubUrl) throw usageError('--hub <url> is required');
    const file = path.resolve(ctx.cwd, args.positionals[0]);
    let update: SignedUpdate;
    try {
      update = JSON.parse(fs.readFileSync(file, 'utf8')) as SignedUpdate;
    } catch (e) {
      throw new OutpostError('input', `cannot read the signed update: ${(e as Error).message}`, { file });
    }
    hubTrust(ctx, args, hubUrl);
    const r = await uploadSignedUpdate(hubUrl, adminTokenOf(ctx, args), update, { allowHttp: allowHttp(args) });
    reportApplied(ctx, r);
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};

export const hubAdminTokenRotateCommand: CommandSpec = {
  name: 'hub admin-token rotate',
  summary: 'Replace the hub\'s admin token: the old one and every console session signed in with it stop working at once',
  usage: 'outpost hub admin-token rotate --dir <d> [--db …]',
  help: ['--dir D      the hub folder: the new token is written to <D>/admin.token (owner-only)', DB_HELP],
  options: HUB_OPTS,
  async run(ctx, args) {
    const r = await withHub(ctx, args, rotateAdminToken);
    ctx.out.text(`new admin token written to ${r.file}; the old token and every console session signed in with it no longer work (every hub process on this database)`);
    ctx.out.json({ ok: true, file: r.file });
    return 0;
  },
};

export const hubOnlineKeysCommand: CommandSpec = {
  name: 'hub online-keys',
  summary: 'Make new online (snapshot, timestamp) keys on the hub, for a rotation the offline root then signs',
  usage: 'outpost hub online-keys --dir <d>',
  help: ['--dir D     the hub folder: the new keys wait in <D>/keys/*.next.key until a root naming them is uploaded'],
  options: { dir: { type: 'string' } },
  async run(ctx, args) {
    const hub = await openHub(dirOf(ctx.cwd, args));
    try {
      const keys = ONLINE_ROLES.map((role) => ({ role, key: hub.keys.createNext(role) }));
      for (const k of keys) ctx.out.text(`new ${k.role} key ${k.key.keyId.slice(0, 16)}: ${k.key.file}.pub`);
      ctx.out.text(`next, where the offline keys are: outpost hub root rotate --new-online-keys --snapshot-key ${keys[0].key.file}.pub --timestamp-key ${keys[1].key.file}.pub --offline-keys <dir> --hub <url> --out rotate.json`);
      ctx.out.json({ ok: true, keys: keys.map((k) => ({ role: k.role, keyId: k.key.keyId, publicKey: `${k.key.file}.pub` })) });
      return 0;
    } finally {
      await hub.close();
    }
  },
};
