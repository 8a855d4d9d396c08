// `outpost sync export` (workstation) and `outpost hub import` (hub): the outbox on a file, for
// workstations that never reach the hub.
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError, usageError } from '../../common/errors.ts';
import { importOutbox } from '../../hub/node/outbox-import.ts';
import { openHub } from '../../hub/node/repository.ts';
import { openStore } from '../../store/node/store.ts';
import { exportOutbox } from '../../sync/node/export.ts';
import { str, type CommandSpec } from '../command.ts';
import { DB_HELP, dbOf, dirOf } from './hub.ts';

export const syncExportCommand: CommandSpec = {
  name: 'sync export',
  summary: 'Write everything waiting to sync, signed by this workstation\'s key, to a file for `outpost hub import` (air-gapped sites)',
  usage: 'outpost sync export --out <file>',
  help: [
    '--out F   the file to write (carry it to the hub machine: `outpost hub import F --dir <hub folder>`)',
    'Nothing is marked sent: the items stay waiting until an online sync is acknowledged; the hub keeps each item once',
    'however often it arrives (imported twice, or imported and then synced).',
  ],
  options: { out: { type: 'string' } },
  async run(ctx, args) {
    const out = str(args, 'out');
    if (!out) throw usageError('--out <file> is required (where to write the exported outbox)');
    const store = openStore(ctx.home);
    try {
      const r = exportOutbox(store, path.resolve(ctx.cwd, out));
      ctx.out.text(`exported ${r.items} item${r.items === 1 ? '' : 's'} in ${r.batches} signed batch${r.batches === 1 ? '' : 'es'} (${r.bytes} bytes) to ${r.file}`);
      ctx.out.text(`  on the hub machine: outpost hub import ${path.basename(r.file)} --dir <hub folder>   (hub ${r.hub}, device "${r.device}")`);
      ctx.out.json({ ok: true, ...r });
      return 0;
    } finally {
      store.close();
    }
  },
};

export const hubImportCommand: CommandSpec = {
  name: 'hub import',
  summary: 'Ingest an outbox a workstation exported (`sync export`): signature checked, each item kept once',
  usage: 'outpost hub import <file> --dir <d> [--db …]',
  help: [
    '--dir D   the hub folder',
    DB_HELP,
    'The device signature of every batch is checked before anything is stored; items the hub already holds',
    '(an earlier import, an online sync) are counted as duplicates and not applied again.',
  ],
  options: { dir: { type: 'string' }, db: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const dir = dirOf(ctx.cwd, args);
    const file = path.resolve(ctx.cwd, args.positionals[0]);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new OutpostError('input', `cannot read the exported outbox: ${(e as Error).message}`, { file });
    }
    const hub = await openHub(dir, { db: dbOf(ctx.cwd, args) });
    try {
      const r = await importOutbox(hub, file, bytes);
      ctx.out.text(`imported ${file} from device "${r.device}": ${r.items} items in ${r.batches} batches; ${r.applied} new, ${r.duplicates} already held`);
      for (const d of r.deferred) ctx.out.warn(`  item ${d.seq} deferred: ${d.reason}`);
      for (const d of r.rejected) ctx.out.warn(`  item ${d.seq} rejected: ${d.reason}`);
      ctx.out.json({ ok: true, file, ...r });
      return 0;
    } finally {
      await hub.close();
    }
  },
};
