// `outpost hub bundle`: make an air-gapped bundle on the hub's machine. The hub folder is served on
// loopback for the length of the command and a throw-away device pulls the selector from it through
// the real pull pipeline (pinned to the hub's first root, so the whole root chain is fetched); every
// response that pipeline reads is recorded into the bundle. What goes into the file is therefore
// exactly what a device verifies — never a second idea of which files a pull needs — and a version
// every device would refuse (bad signatures, unsafe model, card mismatch) is not bundled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { hubPaths } from '../../hub/node/hub-dir.ts';
import { openHub } from '../../hub/node/repository.ts';
import { startHubServer } from '../../hub/node/server.ts';
import { BundleWriter, type BundleManifest } from './bundle.ts';
import { partialPathFor } from '../../io/node/partial-file.ts';
import { pull } from './pull.ts';
import { hubBase } from './trust.ts';

export interface CreateBundleOptions {
  dir: string;
  db?: string;
  ref: string;
  /** the bundle file; the command checks it first (`checkOutputFile`): its folder is not created here */
  out: string;
  /** the hub URL devices know it by, recorded in the manifest (a device may also name it with --hub) */
  url?: string;
  signal?: AbortSignal;
  onProgress?: (e: { stage: string; file?: string; received?: number; total?: number }) => void;
}

export interface CreatedBundle { manifest: BundleManifest; bytes: number; file: string }

export async function createBundle(opts: CreateBundleOptions): Promise<CreatedBundle> {
  const hubUrl = opts.url === undefined ? null : hubBase(opts.url);
  const hub = await openHub(opts.dir, { db: opts.db });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-bundle-'));
  const partial = partialPathFor(opts.out); // beside the output, so the rename is atomic; removed below whatever happens
  let writer: BundleWriter | undefined;
  try {
    const server = await startHubServer(hub);
    try {
      const prefix = `${server.url}/`;
      const recorded: { path: string; tmp: string }[] = [];
      const seen = new Set<string>();
      let n = 0;
      const recording = (async (input: string | URL | Request, init?: RequestInit) => {
        const res = await fetch(input, init);
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (res.status !== 200 || !res.body || !url.startsWith(prefix)) return res;
        const rel = url.slice(prefix.length);
        if (seen.has(rel)) return res;
        seen.add(rel);
        const tmp = path.join(work, `entry-${n++}`);
        const fd = fs.openSync(tmp, 'w');
        const tee = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) { fs.writeSync(fd, chunk); c.enqueue(chunk); },
          flush() { fs.closeSync(fd); recorded.push({ path: rel, tmp }); },
        });
        return new Response(res.body.pipeThrough(tee), { status: res.status, headers: res.headers });
      }) as typeof fetch;
      const r = await pull({
        home: path.join(work, 'device'), hubUrl: server.url, ref: opts.ref, rootFile: hubPaths(opts.dir).trustRoot,
        smoke: false, fetch: recording, signal: opts.signal, onProgress: opts.onProgress,
      }).catch((e: unknown) => {
        // the pull ran against the loopback address this command served the folder on, which the
        // operator never saw: a refusal names the hub folder instead
        if (e instanceof OutpostError && e.message.includes(server.url)) throw new OutpostError(e.code, e.message.split(server.url).join(`the hub in ${opts.dir}`), e.location, e.details);
        throw e;
      });
      writer = new BundleWriter(partial);
      for (const e of recorded) writer.addFile(e.path, e.tmp);
      const manifest = writer.finish({ createdAt: new Date().toISOString(), hub: hubUrl, ref: opts.ref, name: r.model.name, version: r.model.version });
      writer = undefined;
      fs.renameSync(partial, opts.out);
      return { manifest, bytes: fs.statSync(opts.out).size, file: opts.out };
    } finally {
      await server.close();
    }
  } finally {
    writer?.abort();
    fs.rmSync(partial, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
    await hub.close();
  }
}
