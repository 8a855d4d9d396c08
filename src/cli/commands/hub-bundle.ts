// `outpost hub bundle`: one file with the signed metadata and blobs of a model version, for a
// workstation without network (`outpost pull --bundle`).
import path from 'node:path';
import { usageError } from '../../common/errors.ts';
import { checkOutputFile } from '../../io/node/output-file.ts';
import { parseSelector } from '../../hub/common/target-paths.ts';
import { createBundle } from '../../registry/node/bundle-create.ts';
import { hubPaths } from '../../hub/node/hub-dir.ts';
import { flag, str, type CommandSpec } from '../command.ts';
import { DB_HELP, dbOf, dirOf } from './hub.ts';

export const hubBundleCommand: CommandSpec = {
  name: 'hub bundle',
  summary: 'Write a model version\'s signed TUF metadata and files into one file for an air-gapped workstation (pull --bundle)',
  usage: 'outpost hub bundle <name>[:<alias>|@<version>] --dir <d> --out <file.outpost> [--overwrite] [--url <hub url>] [--db …]',
  help: [
    '--dir D      the hub folder (this machine)',
    '--out F      the bundle file to write (carry it to the workstation; `outpost pull --bundle F`); its folder must',
    '             exist; written to a temp file beside it, renamed when complete',
    '--overwrite  replace --out if it exists (without it an existing file is refused, before anything is pulled)',
    '--url URL    the hub\'s URL as workstations know it (recorded in the bundle, so `pull --bundle` needs no --hub)',
    DB_HELP,
  ],
  options: { dir: { type: 'string' }, out: { type: 'string' }, overwrite: { type: 'boolean' }, url: { type: 'string' }, db: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const dir = dirOf(ctx.cwd, args);
    const out = str(args, 'out');
    if (!out) throw usageError('--out <file.outpost> is required (where to write the bundle)');
    const ref = args.positionals[0];
    const sel = parseSelector(ref);
    if (!sel.ok) throw usageError(sel.reason);
    const file = checkOutputFile(ctx.cwd, out, { option: '--out', overwrite: flag(args, 'overwrite') }); // before the pull
    const r = await createBundle({ dir, db: dbOf(ctx.cwd, args), ref, out: file, url: str(args, 'url'), signal: ctx.signal, onProgress: (e) => ctx.out.event({ event: 'progress', ...e }) });
    const m = r.manifest;
    ctx.out.text(`bundle ${r.file}: ${m.name}@${m.version} (${ref}), ${m.entries.length} entries, ${r.bytes} bytes`);
    ctx.out.text(`  on the workstation: outpost pull --bundle ${path.basename(r.file)}${m.hub ? '' : ' --hub <the hub URL it trusts>'}`);
    ctx.out.text(`  (a workstation new to this hub adds --root root.json once: this hub's is ${hubPaths(dir).trustRoot})`);
    ctx.out.json({ ok: true, file: r.file, bytes: r.bytes, name: m.name, version: m.version, ref, hub: m.hub, entries: m.entries.map((e) => e.path) });
    return 0;
  },
};
