// The hub commands that need the offline keys: publisher delegations, renewals and rotations. Each
// runs where the offline keys are, with `--offline-keys DIR`, and either applies the signed result
// to a hub folder on this machine (`--dir`) or writes it to a file (`--hub URL --out FILE`) for
// `outpost hub upload-metadata` (admin token) on a networked machine.
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { remoteRepoState } from '../../hub/node/admin-client.ts';
import { offlineKeysFor, nextOfflineKey, promoteOfflineKey, type OfflineKeys, type OfflineRole } from '../../hub/node/offline-keys.ts';
import { applySignedUpdate, openHub, repoState } from '../../hub/node/repository.ts';
import { delegatePublisher, nextRoot, renewTargets, revokePublisher, type RepoState, type SignedUpdate } from '../../hub/node/signing.ts';
import { addSeconds } from '../../hub/node/tuf-metadata.ts';
import { checkOutputFile, writeFileAtomic } from '../../io/node/output-file.ts';
import { loadPublicKey } from '../../keys/node/keys.ts';
import { str, flag, wholeNumber, type CommandContext, type CommandSpec, type ParsedArgs } from '../command.ts';
import { CA_HELP, CA_OPTION, hubTrust } from '../hub-access.ts';
import { DB_HELP, dbOf, reportApplied } from './hub.ts';
import { passphraseFromEnv } from './keys.ts';

const COMMON_OPTIONS = {
  'offline-keys': { type: 'string' }, dir: { type: 'string' }, db: { type: 'string' }, hub: { type: 'string' }, out: { type: 'string' }, overwrite: { type: 'boolean' },
  'passphrase-env': { type: 'string' }, 'expires-days': { type: 'string' }, ...CA_OPTION,
} as const;

const COMMON_HELP = [
  '--offline-keys K      the offline keys folder (from `hub init`)',
  '--dir D               apply to the hub folder D on this machine, or:',
  '--hub URL --out FILE  read the hub\'s current metadata from URL and write the signed update to FILE,',
  '                      for `outpost hub upload-metadata FILE --hub URL --token <admin token>`; its folder must exist',
  '--overwrite           replace --out if it exists (without it an existing file is refused, before anything is signed)',
  '--expires-days N      lifetime of the new metadata (default: the hub\'s setting with --dir, else 365)',
  '--passphrase-env VAR  passphrase of the offline keys',
  DB_HELP,
  ...CA_HELP,
];

interface Lifetimes { root: number; targets: number }

interface OfflineRun {
  state: RepoState;
  keys: OfflineKeys;
  now: Date;
  lifetimes: Lifetimes;
  expires(role: keyof Lifetimes): Date;
  passphrase?: string;
}

/** Load the current state (hub folder or URL) and the offline keys that sign for it; apply or write what `make` signs. */
async function offline(ctx: CommandContext, args: ParsedArgs, make: (run: OfflineRun) => SignedUpdate, after?: () => void): Promise<number> {
  const offDir = str(args, 'offline-keys');
  if (!offDir) throw usageError('--offline-keys <folder> is required (the root and targets keys `hub init` made outside the hub folder)');
  const dir = str(args, 'dir');
  const hubUrl = str(args, 'hub');
  const out = str(args, 'out');
  if ((dir === undefined) === (hubUrl === undefined)) throw usageError('give either --dir <hub folder> (apply here) or --hub <url> --out <file> (sign for upload)');
  if (hubUrl !== undefined && out === undefined) throw usageError('--hub needs --out <file>: the signed update is uploaded with `outpost hub upload-metadata`');
  // --dir applies the update in place: an --out (or --overwrite) there would be silently ignored
  if (dir !== undefined && (out !== undefined || args.values.overwrite !== undefined)) throw usageError('--dir applies the update to the hub folder; --out and --overwrite go with --hub <url> (sign for upload)');
  // where the update goes is checked before anything is fetched or signed (or a new offline key made)
  const file = hubUrl === undefined ? undefined : checkOutputFile(ctx.cwd, out!, { option: '--out', overwrite: flag(args, 'overwrite') });
  const days = wholeNumber(args, 'expires-days', 1, 3650, 'days');
  const passphrase = passphraseFromEnv(ctx.env, str(args, 'passphrase-env'));
  const now = new Date();
  const runWith = (state: RepoState, lifetimes: Lifetimes): SignedUpdate => {
    const keys = offlineKeysFor(path.resolve(ctx.cwd, offDir), state.root, passphrase);
    const expires = (role: keyof Lifetimes) => addSeconds(now, days !== undefined ? days * 86_400 : lifetimes[role]);
    return make({ state, keys, now, lifetimes, expires, passphrase });
  };
  if (dir !== undefined) {
    const hub = await openHub(path.resolve(ctx.cwd, dir), { db: dbOf(ctx.cwd, args) });
    try {
      const update = runWith(await repoState(hub.storage), { root: hub.config.rootExpirySeconds, targets: hub.config.targetsExpirySeconds });
      const r = await applySignedUpdate(hub, update);
      after?.();
      reportApplied(ctx, r);
      ctx.out.json({ ok: true, applied: true, ...r });
    } finally {
      await hub.close();
    }
    return 0;
  }
  hubTrust(ctx, args, hubUrl!);
  const update = runWith(await remoteRepoState(hubUrl!), { root: 365 * 86_400, targets: 365 * 86_400 });
  writeFileAtomic(file!, (fd) => fs.writeSync(fd, JSON.stringify(update, null, 2) + '\n'));
  after?.();
  for (const c of update.changes) (/^(KEY CHANGE|REVOKED|RE-DELEGATION|FORCED)/.test(c) ? ctx.out.warn : ctx.out.text)(c);
  ctx.out.text(`signed update written to ${file}; upload it: outpost hub upload-metadata ${out} --hub ${hubUrl} --token <admin token>`);
  ctx.out.json({ ok: true, applied: false, file, changes: update.changes });
  return 0;
}

export const hubAddPublisherCommand: CommandSpec = {
  name: 'hub add-publisher',
  summary: 'Delegate model names to a publisher key, or change a publisher\'s keys (offline targets key)',
  usage: "outpost hub add-publisher --name <team> --key <public key> --models '<glob>' --offline-keys <K> (--dir <d> | --hub <url> --out <file>) [--threshold N] [--force]",
  help: [
    '--name TEAM           publisher name (lower-case letters, digits, "-")',
    '--key FILE            publisher public key (repeat for several keys; to rotate a key, list old and new',
    '                      until the team has re-signed with the new one, then the new one alone)',
    "--models GLOB         model names this publisher may sign, e.g. 'churn*' (may not overlap another team's)",
    '--threshold N         signatures required (default 1)',
    '--force               sign even though the team\'s current metadata stops verifying (after a key compromise)',
    ...COMMON_HELP,
  ],
  options: { ...COMMON_OPTIONS, name: { type: 'string' }, key: { type: 'string', multiple: true }, models: { type: 'string' }, threshold: { type: 'string' }, force: { type: 'boolean' } },
  run(ctx, args) {
    const name = str(args, 'name');
    const models = str(args, 'models');
    const keyFiles = (args.values.key as string[] | undefined) ?? [];
    if (!name || !models || !keyFiles.length) throw usageError('--name, --key and --models are required');
    const threshold = wholeNumber(args, 'threshold', 1, keyFiles.length) ?? 1; // of the keys given
    const keys = keyFiles.map((f) => loadPublicKey(path.resolve(ctx.cwd, f)));
    return offline(ctx, args, (r) => delegatePublisher(r.state, r.keys.targets, { name, keys, threshold, modelsGlob: models, force: flag(args, 'force'), now: r.now, expires: r.expires('targets') }));
  },
};

export const hubRevokePublisherCommand: CommandSpec = {
  name: 'hub revoke-publisher',
  summary: 'Withdraw a publisher\'s delegation: devices stop installing its models (offline targets key)',
  usage: 'outpost hub revoke-publisher --name <team> --offline-keys <K> (--dir <d> | --hub <url> --out <file>)',
  help: ['--name TEAM           the publisher to revoke (its API token stops working)', ...COMMON_HELP],
  options: { ...COMMON_OPTIONS, name: { type: 'string' } },
  run(ctx, args) {
    const name = str(args, 'name');
    if (!name) throw usageError('--name is required');
    return offline(ctx, args, (r) => revokePublisher(r.state, r.keys.targets, { name, now: r.now, expires: r.expires('targets') }));
  },
};

export const hubTargetsRenewCommand: CommandSpec = {
  name: 'hub targets renew',
  summary: 'Re-sign the top-level targets metadata with a later expiry (offline targets key)',
  usage: 'outpost hub targets renew --offline-keys <K> (--dir <d> | --hub <url> --out <file>) [--expires-days N]',
  help: COMMON_HELP,
  options: COMMON_OPTIONS,
  run(ctx, args) {
    return offline(ctx, args, (r) => renewTargets(r.state, r.keys.targets, { now: r.now, expires: r.expires('targets') }));
  },
};

export const hubRootRenewCommand: CommandSpec = {
  name: 'hub root renew',
  summary: 'Sign the next root version with a later expiry, same keys (offline root key)',
  usage: 'outpost hub root renew --offline-keys <K> (--dir <d> | --hub <url> --out <file>) [--expires-days N]',
  help: COMMON_HELP,
  options: COMMON_OPTIONS,
  run(ctx, args) {
    return offline(ctx, args, (r) => nextRoot(r.state, { rootKeys: r.keys.rootKeys, now: r.now, expires: r.expires('root') }));
  },
};

export const hubRootRotateCommand: CommandSpec = {
  name: 'hub root rotate',
  summary: 'Replace root, targets and/or online keys in a new root version, cross-signed by the old root key',
  usage: 'outpost hub root rotate --offline-keys <K> (--dir <d> | --hub <url> --out <file>) [--new-root-key] [--new-targets-key] [--new-online-keys [--snapshot-key PUB --timestamp-key PUB]]',
  help: [
    '--new-root-key        make a new root key (the old one moves to <K>/retired/ after signing)',
    '--new-targets-key     make a new targets key; the top-level targets are re-signed with it',
    '--new-online-keys     new snapshot and timestamp keys (devices then drop their stored timestamp and',
    '                      snapshot: the recovery from a stolen online key or a fast-forward attack). With --dir',
    '                      they are made in the hub folder; with --hub give --snapshot-key and --timestamp-key,',
    '                      the public keys `outpost hub online-keys --dir` made on the hub',
    ...COMMON_HELP,
  ],
  options: { ...COMMON_OPTIONS, 'new-root-key': { type: 'boolean' }, 'new-targets-key': { type: 'boolean' }, 'new-online-keys': { type: 'boolean' }, 'snapshot-key': { type: 'string' }, 'timestamp-key': { type: 'string' } },
  async run(ctx, args) {
    const offDir = path.resolve(ctx.cwd, str(args, 'offline-keys') ?? '.');
    const roles: OfflineRole[] = [...(flag(args, 'new-root-key') ? ['root' as const] : []), ...(flag(args, 'new-targets-key') ? ['targets' as const] : [])];
    const online = flag(args, 'new-online-keys');
    if (!roles.length && !online) throw usageError('say which keys to replace: --new-root-key, --new-targets-key and/or --new-online-keys (to only extend the expiry: `hub root renew`)');
    let onlinePubs: { snapshot: ReturnType<typeof loadPublicKey>; timestamp: ReturnType<typeof loadPublicKey> } | undefined;
    if (online) {
      const s = str(args, 'snapshot-key');
      const t = str(args, 'timestamp-key');
      if (str(args, 'dir') !== undefined && s === undefined && t === undefined) {
        const hub = await openHub(path.resolve(ctx.cwd, str(args, 'dir')!), { db: dbOf(ctx.cwd, args) });
        try {
          onlinePubs = { snapshot: hub.keys.createNext('snapshot').tufKey, timestamp: hub.keys.createNext('timestamp').tufKey };
        } finally {
          await hub.close();
        }
      } else {
        if (!s || !t) throw usageError('--new-online-keys with --hub needs --snapshot-key and --timestamp-key (from `outpost hub online-keys --dir <d>` on the hub)');
        onlinePubs = { snapshot: loadPublicKey(path.resolve(ctx.cwd, s)), timestamp: loadPublicKey(path.resolve(ctx.cwd, t)) };
      }
    }
    return offline(ctx, args, (r) => {
      const fresh = Object.fromEntries(roles.map((role) => [role, nextOfflineKey(offDir, role, r.passphrase)]));
      return nextRoot(r.state, {
        rootKeys: r.keys.rootKeys, now: r.now, expires: r.expires('root'),
        ...(fresh.root ? { newRootKey: fresh.root } : {}),
        ...(fresh.targets ? { targetsKey: { current: r.keys.targets, fresh: fresh.targets, expires: r.expires('targets') } } : {}),
        ...(onlinePubs ? { online: onlinePubs } : {}),
      });
    }, () => { for (const role of roles) promoteOfflineKey(offDir, role); });
  },
};
