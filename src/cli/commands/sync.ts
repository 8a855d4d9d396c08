// `outpost connect`, `outpost sync`, `outpost sync status`: this workstation and its hub.
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { countOf, formatCount } from '../../common/count.ts';
import { outboxSummary } from '../../store/node/outbox.ts';
import { openStore } from '../../store/node/store.ts';
import { hubConnection, syncStatus } from '../../store/node/sync-state.ts';
import { connect } from '../../sync/node/connect.ts';
import { listAssignments } from '../../sync/node/rollout.ts';
import { runSync } from '../../sync/node/sync.ts';
import { flag, str, type CommandSpec } from '../command.ts';
import { allowHttp, ALLOW_HTTP_OPTION, CA_HELP, CA_OPTION, hubTrust } from '../hub-access.ts';

const bytes = (n: number): string => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

export const connectCommand: CommandSpec = {
  name: 'connect',
  summary: 'Enroll this workstation with a hub (device key + one-time code); sync and pull then use that hub',
  usage: 'outpost connect --hub <url> --root <root.json> --code <CODE> [--ca <ca.pem>] [--replace]',
  help: [
    '--hub URL      the hub',
    '--root FILE    the hub\'s root.json to trust (not needed when this workstation already pulled from it)',
    '--code CODE    the one-time enrollment code from `outpost hub devices add` (single use, expires)',
    ...CA_HELP,
    '--allow-http          allow sending the enrollment code over plain http to another machine (trusted networks only)',
    '--replace      enroll again although connected (the hub revoked this workstation, or it moves to another hub):',
    '               a new device key; the old enrollment is replaced only once the hub accepted the new one',
    'Creates an Ed25519 device key in <data folder>/device/ (private key owner-only) and registers its public key;',
    'no key is kept when the hub does not accept the code.',
  ],
  options: { hub: { type: 'string' }, root: { type: 'string' }, code: { type: 'string' }, replace: { type: 'boolean' }, ...CA_OPTION, ...ALLOW_HTTP_OPTION },
  async run(ctx, args) {
    const hubUrl = str(args, 'hub') ?? ctx.env.OUTPOST_HUB;
    const code = str(args, 'code');
    if (!hubUrl || !code) throw usageError('--hub <url> and --code <CODE> are required');
    const root = str(args, 'root');
    hubTrust(ctx, args, hubUrl);
    const store = openStore(ctx.home);
    try {
      const c = await connect(store, { hubUrl, code, allowHttp: allowHttp(args), replace: flag(args, 'replace'), ...(root ? { rootFile: path.resolve(ctx.cwd, root) } : {}), signal: ctx.signal });
      ctx.out.text(`connected to ${c.url} as "${c.name}"${c.group ? ` (group ${c.group})` : ''}; device id ${c.deviceId}`);
      ctx.out.text(`  device key: ${path.join(ctx.home, c.keyFile)} (owner-only)`);
      ctx.out.text('  run `outpost sync` to send what is waiting; `outpost pull <model>` now uses this hub');
      ctx.out.json({ ok: true, ...c });
      return 0;
    } finally {
      store.close();
    }
  },
};

export const syncCommand: CommandSpec = {
  name: 'sync',
  summary: 'Send what is waiting (predictions, drift statistics, events) to the hub and refresh its signed metadata',
  usage: 'outpost sync [--bandwidth BYTES_PER_SECOND]',
  help: [
    '--bandwidth N   upload at most N bytes per second (default: the syncBandwidthBytesPerSecond setting)',
    'Exit status 0 when everything waiting was acknowledged (or kept back by the hub with a reason), 1 otherwise.',
  ],
  options: { bandwidth: { type: 'string' } },
  async run(ctx, args) {
    const bw = str(args, 'bandwidth');
    const bandwidth = bw === undefined ? undefined : Number(bw);
    if (bandwidth !== undefined && (!Number.isFinite(bandwidth) || bandwidth < 0)) throw usageError(`--bandwidth must be a number of bytes per second (got "${bw}")`);
    const store = openStore(ctx.home);
    try {
      const r = await runSync(store, {
        signal: ctx.signal, ...(bandwidth !== undefined ? { bandwidth } : {}),
        onProgress: (p) => {
          ctx.out.event({ event: 'progress', ...p });
          if (ctx.interactive) process.stderr.write(`\r… ${countOf(p.sent, 'item')} sent, ${formatCount(p.waiting)} waiting, ${bytes(p.bytes)} uploaded   `);
        },
        onRetry: (e) => ctx.out.warn(`retry ${e.attempt} in ${(e.waitMs / 1000).toFixed(1)} s: ${e.reason}`),
      });
      if (ctx.interactive) process.stderr.write('\n');
      ctx.out.text(`synced with ${r.hub} as "${r.device}": ${countOf(r.sent, 'item')} sent (${bytes(r.bytes)} in ${r.requests} request${r.requests === 1 ? '' : 's'}${r.retries ? `, ${r.retries} retries` : ''})`);
      ctx.out.text(r.metadata.refreshed ? '  signed metadata refreshed' : `  signed metadata NOT refreshed: ${r.metadata.error}`);
      if (r.waiting.waiting) ctx.out.text(`  still waiting: ${countOf(r.waiting.waiting, 'item')}`);
      if (!r.rollouts.checked) ctx.out.warn(`  rollout assignments not checked: ${r.rollouts.error}`);
      for (const a of r.rollouts.handled) {
        ctx.out.text(a.state === 'installed' ? `  rollout ${a.rollout}: ${a.model}@${a.version} installed (verified) and active`
          : a.state === 'available' ? `  rollout ${a.rollout}: update available — ${a.ref} (policy ask: \`outpost updates install ${a.rollout}\`)`
            : `  rollout ${a.rollout}: ${a.ref} REFUSED at ${a.stage}: ${a.reason}`);
      }
      for (const x of r.rollouts.retry) ctx.out.warn(`  rollout ${x.ref} not installed yet (tried again at the next sync): ${x.reason}`);
      for (const d of [...r.deferred, ...r.rejected].slice(0, 10)) ctx.out.warn(`  item ${d.seq} kept back by the hub: ${d.reason}`);
      ctx.out.json({ ok: true, ...r });
      return 0;
    } finally {
      store.close();
    }
  },
};

export const syncStatusCommand: CommandSpec = {
  name: 'sync status',
  summary: 'What is waiting to sync, since when, the last success and the last error',
  usage: 'outpost sync status',
  async run(ctx) {
    const store = openStore(ctx.home);
    try {
      const conn = hubConnection(store);
      const s = syncStatus(store);
      const w = outboxSummary(store);
      ctx.out.json({ ok: true, connected: conn !== undefined, hub: conn ?? null, ...s, waiting: w });
      if (!conn) {
        ctx.out.text('not connected to a hub (connect with `outpost connect --hub URL --root root.json --code CODE`)');
        return 0;
      }
      ctx.out.text(`hub: ${conn.url} as "${conn.name}"${conn.group ? ` (group ${conn.group})` : ''}`);
      ctx.out.text(`waiting: ${countOf(w.waiting, 'item')} (${bytes(w.waitingBytes)}${w.waitingRows ? `, ${countOf(w.waitingRows, 'row')}` : ''})${w.oldest !== null ? ` since ${new Date(w.oldest).toISOString()}` : ''}`);
      if (w.waiting) ctx.out.text(`  ${Object.entries(w.byKind).map(([k, n]) => `${k}: ${n}`).join(', ')}`);
      ctx.out.text(`last success: ${s.lastSuccessAt ?? 'never'}${s.lastSuccessAt ? ` (${countOf(s.lastSent, 'item')})` : ''}`);
      ctx.out.text(`last error: ${s.lastError ? `${s.lastError.at}: ${s.lastError.message}` : 'none'}`);
      for (const p of w.problems) ctx.out.text(`  item ${p.seq} (${p.kind}) kept back: ${p.error}`);
      const offered = listAssignments(store, ['available']);
      if (offered.length) ctx.out.text(`updates offered by the hub: ${offered.map((a) => a.ref).join(', ')} (\`outpost updates\`)`);
      return 0;
    } finally {
      store.close();
    }
  },
};
