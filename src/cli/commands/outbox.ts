// `outpost sync export` (workstation) and `outpost hub import` (hub): the outbox on a file, for
// workstations that never reach the hub.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError, usageError } from '../../common/errors.ts';
import { countOf } from '../../common/count.ts';
import { openFailure } from '../../io/node/input-file.ts';
import { checkOutputFile, writeFileAtomic } from '../../io/node/output-file.ts';
import { signImportReceipt } from '../../hub/node/import-receipt.ts';
import { importOutbox } from '../../hub/node/outbox-import.ts';
import { openHub } from '../../hub/node/repository.ts';
import { openStore } from '../../store/node/store.ts';
import { exportOutbox } from '../../sync/node/export.ts';
import { applyReceipt } from '../../sync/node/receipt.ts';
import { flag, str, type CommandSpec } from '../command.ts';
import { DB_HELP, dbOf, dirOf } from './hub.ts';

export const syncExportCommand: CommandSpec = {
  name: 'sync export',
  summary: 'Write everything waiting to sync, signed by this workstation\'s key, to a file for `outpost hub import` (air-gapped sites)',
  usage: 'outpost sync export --out <file> [--overwrite]',
  help: [
    '--out F       the file to write (carry it to the hub machine: `outpost hub import F --dir <hub folder>`);',
    '              its folder must exist; written to a temp file beside it, renamed when complete',
    '--overwrite   replace --out if it exists (without it an existing file is refused)',
    'Nothing is marked sent: the items stay waiting until an online sync is acknowledged, or until `outpost sync ack R`',
    'applies the receipt `hub import F --receipt R` signed; the hub keeps each item once however often it arrives.',
  ],
  options: { out: { type: 'string' }, overwrite: { type: 'boolean' } },
  async run(ctx, args) {
    const out = str(args, 'out');
    if (!out) throw usageError('--out <file> is required (where to write the exported outbox)');
    const file = checkOutputFile(ctx.cwd, out, { option: '--out', overwrite: flag(args, 'overwrite') }); // before anything is queued
    const store = openStore(ctx.home);
    try {
      const r = exportOutbox(store, file);
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
  usage: 'outpost hub import <file> --dir <d> [--db …] [--receipt R [--overwrite]]',
  help: [
    '--dir D       the hub folder',
    DB_HELP,
    '--receipt R   also write a receipt signed by the hub (its timestamp key) listing the items it now holds;',
    '              carried back to the workstation, `outpost sync ack R` marks them sent; its folder must exist',
    '--overwrite   replace --receipt if it exists (without it an existing file is refused, before anything is imported)',
    'The device signature of every batch is checked before anything is stored; items the hub already holds',
    '(an earlier import, an online sync) are counted as duplicates and not applied again.',
  ],
  options: { dir: { type: 'string' }, db: { type: 'string' }, receipt: { type: 'string' }, overwrite: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const dir = dirOf(ctx.cwd, args);
    const receiptOpt = str(args, 'receipt');
    if (receiptOpt === undefined && flag(args, 'overwrite')) throw usageError('--overwrite applies to --receipt; give --receipt R too');
    // the receipt's destination is checked before anything is imported
    const receiptFile = receiptOpt === undefined ? undefined : checkOutputFile(ctx.cwd, receiptOpt, { option: '--receipt', overwrite: flag(args, 'overwrite') });
    const file = path.resolve(ctx.cwd, args.positionals[0]);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new OutpostError('input', `cannot read the exported outbox: ${openFailure(e)}`, { file });
    }
    const hub = await openHub(dir, { db: dbOf(ctx.cwd, args) });
    try {
      const { acked, ...r } = await importOutbox(hub, file, bytes);
      ctx.out.text(`imported ${file} from device "${r.device}": ${countOf(r.items, 'item')} in ${countOf(r.batches, 'batch')}; ${r.applied} new, ${r.duplicates} already held`);
      if (r.note) ctx.out.warn(`  note: ${r.note}`);
      for (const d of r.deferred) ctx.out.warn(`  item ${d.seq} deferred: ${d.reason}`);
      for (const d of r.rejected) ctx.out.warn(`  item ${d.seq} rejected: ${d.reason}`);
      if (receiptFile && r.batches > 0) {
        const receipt = await signImportReceipt(hub, { deviceId: r.deviceId, acked, fileSha256: crypto.createHash('sha256').update(bytes).digest('hex') });
        writeFileAtomic(receiptFile, (fd) => fs.writeSync(fd, JSON.stringify(receipt) + '\n'));
        ctx.out.text(`  receipt for ${countOf(acked.length, 'item')} written to ${receiptFile}: on the workstation, \`outpost sync ack ${path.basename(receiptFile)}\``);
      }
      ctx.out.json({ ok: true, file, ...r, acknowledged: acked.length, receipt: receiptFile && r.batches > 0 ? receiptFile : null });
      return 0;
    } finally {
      await hub.close();
    }
  },
};

export const syncAckCommand: CommandSpec = {
  name: 'sync ack',
  summary: 'Apply a receipt from `hub import --receipt` (signed by the hub): the imported items are marked sent and pruned later',
  usage: 'outpost sync ack <receipt>',
  help: [
    'The receipt must verify with the timestamp key of the hub root this workstation trusts and name this workstation;',
    'otherwise nothing is marked. Applying one twice changes nothing.',
  ],
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const file = path.resolve(ctx.cwd, args.positionals[0]);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new OutpostError('input', `cannot read the receipt: ${openFailure(e)}`, { file });
    }
    const store = openStore(ctx.home);
    try {
      const r = applyReceipt(store, text, file);
      ctx.out.text(`receipt from ${r.hub} (imported ${r.importedAt}): ${countOf(r.acknowledged, 'item')} acknowledged; ${r.marked} marked sent now, ${r.alreadySent} were already`);
      ctx.out.text(`  still waiting: ${countOf(r.waiting.waiting, 'item')}`);
      ctx.out.json({ ok: true, ...r });
      return 0;
    } finally {
      store.close();
    }
  },
};
