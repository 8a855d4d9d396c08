// Air-gapped bundles (`outpost hub bundle` / `outpost pull --bundle`): one file holding exactly the
// hub responses a device needs to pull one model version — the signed TUF metadata (every root
// version of the chain, timestamp, snapshot, targets, the delegated publisher role) and the
// version's targets (card, model, alias/yank documents) — so that a workstation without network
// runs the unchanged pull pipeline (tuf-js + downloadTarget) with a fetch that answers from the
// file instead of HTTP. The container is transport, like HTTP: it is NOT trusted and carries no
// signatures or checksums of its own; everything in it is verified by TUF against the device's
// stored root exactly as a network pull is. The container is only checked for shape (stage
// `bundle`: not a bundle, truncated, entries outside the file).
//
// Format (docs/ARCHITECTURE.md, "Air-gapped bundles"):
//   "OUTPOST-BUNDLE/1\n"                       17-byte header
//   entry bytes, concatenated                  each an HTTP response body of the hub
//   manifest, UTF-8 JSON                       { format, createdAt, hub, ref, name, version, entries: [{ path, offset, length }] }
//   manifest length, uint64 big-endian         8 bytes
//   "OPBUNDLE"                                 8-byte end marker (absent: the file is truncated)
// An entry's `path` is the URL path below the hub base exactly as the client requests it
// (`metadata/2.root.json`, `targets/churn/1/<sha256>.model.onnx`).
import fs from 'node:fs';
import { OutpostError } from '../../common/errors.ts';
import { parseSelector, type ModelSelector } from '../../hub/common/target-paths.ts';
import { openFailure } from '../../io/node/input-file.ts';
import { PullRefused } from './errors.ts';
import { fileResponse, missingResponse } from './file-response.ts';
import { hubBase } from './trust.ts';

export const BUNDLE_HEADER = Buffer.from('OUTPOST-BUNDLE/1\n');
export const BUNDLE_END = Buffer.from('OPBUNDLE');
const TRAILER = 16;

export interface BundleEntry { path: string; offset: number; length: number }
export interface BundleManifest {
  format: 'outpost.bundle/v1';
  createdAt: string;
  /** the hub's URL as devices know it (`hub bundle --url`), or null: the device then names it (`--hub`) */
  hub: string | null;
  /** the selector the bundle was made for (`churn:production`, `churn@3`) */
  ref: string;
  name: string;
  version: number;
  entries: BundleEntry[];
}

export interface OpenBundle { file: string; size: number; manifest: BundleManifest; entries: Map<string, BundleEntry> }

const ENTRY_PATH = /^(metadata\/[A-Za-z0-9._%-]+\.json|targets\/[A-Za-z0-9._%@:/-]+)$/;

/** Read and shape-check a bundle's manifest. A refusal names the file and the reason (stage `bundle`). */
export function openBundle(file: string): OpenBundle {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new OutpostError('input', `cannot read the bundle: ${openFailure(e)}`, { file });
  }
  try {
    const st = fs.fstatSync(fd);
    // a folder opens on POSIX and fails only when read (EISDIR, an "internal error" before)
    if (!st.isFile()) throw new OutpostError('input', `cannot read the bundle: ${st.isDirectory() ? 'is a directory, not a file' : 'is not a regular file'}`, { file });
    const size = st.size;
    const refuse = (why: string) => new PullRefused('bundle', `refused at bundle: ${file} ${why}`, { file });
    if (size < BUNDLE_HEADER.length + TRAILER) throw refuse(`is ${size} bytes: not an Outpost bundle, or truncated`);
    const head = Buffer.alloc(BUNDLE_HEADER.length);
    fs.readSync(fd, head, 0, head.length, 0);
    if (!head.equals(BUNDLE_HEADER)) throw refuse('is not an Outpost bundle (no OUTPOST-BUNDLE/1 header)');
    const tail = Buffer.alloc(TRAILER);
    fs.readSync(fd, tail, 0, TRAILER, size - TRAILER);
    if (!tail.subarray(8).equals(BUNDLE_END)) throw refuse(`is truncated or damaged: its last ${TRAILER} bytes are not the end marker (copy the whole file again)`);
    const mlen = Number(tail.readBigUInt64BE(0));
    const mstart = size - TRAILER - mlen;
    if (mlen <= 0 || mstart < BUNDLE_HEADER.length) throw refuse(`is damaged: its manifest length (${mlen}) does not fit the file`);
    const mbuf = Buffer.alloc(mlen);
    fs.readSync(fd, mbuf, 0, mlen, mstart);
    let m: BundleManifest;
    try {
      m = JSON.parse(mbuf.toString('utf8')) as BundleManifest;
    } catch (e) {
      throw refuse(`has a manifest that is not JSON: ${(e as Error).message}`);
    }
    if (m?.format !== 'outpost.bundle/v1') throw refuse(`has an unknown format "${String(m?.format)}" (this Outpost reads outpost.bundle/v1)`);
    if (typeof m.ref !== 'string' || typeof m.name !== 'string' || !Number.isInteger(m.version) || !Array.isArray(m.entries)) throw refuse('has a manifest without ref, name, version or entries');
    if (m.hub !== null && typeof m.hub !== 'string') throw refuse('has a manifest whose hub is not a URL');
    if (typeof m.hub === 'string') {
      try {
        hubBase(m.hub);
      } catch (e) {
        throw refuse(`has a manifest whose hub is not a hub URL: ${(e as Error).message}`);
      }
    }
    const entries = new Map<string, BundleEntry>();
    for (const [i, e] of m.entries.entries()) {
      if (typeof e?.path !== 'string' || !ENTRY_PATH.test(e.path) || e.path.split('/').includes('..')) throw refuse(`has an entry ${i} with a bad path ${JSON.stringify(e?.path)}`);
      if (!Number.isSafeInteger(e.offset) || !Number.isSafeInteger(e.length) || e.length < 0 || e.offset < BUNDLE_HEADER.length || e.offset + e.length > mstart) {
        throw refuse(`has an entry ${e.path} (offset ${e.offset}, ${e.length} bytes) outside its data section`);
      }
      if (entries.has(e.path)) throw refuse(`has two entries for ${e.path}`);
      entries.set(e.path, { path: e.path, offset: e.offset, length: e.length });
    }
    return { file, size, manifest: m, entries };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Why this bundle cannot serve `sel`, or undefined when it may. A bundle holds one model's signed
 * metadata and one version's files (and the alias it was made for), so another model or alias would
 * only fail later as a missing file ("the hub answered 404", recorded as a refusal). Another version
 * may be fine: one already installed needs no files, and the bundle refreshes its metadata. The
 * manifest is not trusted: this only refuses early, and whatever a pull installs is verified as ever.
 */
export function bundleMismatch(b: OpenBundle, sel: ModelSelector): string | undefined {
  const m = b.manifest;
  const made = parseSelector(m.ref);
  const alias = made.ok ? made.selector.alias : undefined;
  if (sel.name === m.name && (sel.alias === undefined || sel.alias === alias)) return undefined;
  const holds = `${m.name}@${m.version}${alias ? ` (alias ${m.name}:${alias})` : ''}`;
  return `${b.file} holds ${holds}, not ${sel.name}${sel.alias ? `:${sel.alias}` : ''}: make a bundle for it on the hub (\`outpost hub bundle\`), or leave the model out to install what this one holds`;
}

/**
 * A fetch that answers a hub's URLs under `base` from the bundle: 200 with the entry, 206 for a
 * `Range: bytes=N-` resume of a partial download a network pull left, 404 for anything the bundle
 * does not hold (tuf-js stops looking for newer roots there, as on a hub).
 */
export function bundleFetch(b: OpenBundle, base: string): typeof fetch {
  const prefix = `${base}/`;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (init?.signal?.aborted) throw init.signal.reason;
    const e = url.startsWith(prefix) ? b.entries.get(url.slice(prefix.length)) : undefined;
    if (!e) return missingResponse(b.file);
    const range = new Headers(init?.headers).get('range');
    let from = 0;
    if (range) {
      const m = /^bytes=(\d+)-$/.exec(range);
      from = m ? Number(m[1]) : -1;
      if (from < 0 || from >= e.length) return new Response(null, { status: 416, headers: { 'content-range': `bytes */${e.length}` } });
    }
    const headers = { 'content-length': String(e.length - from), ...(range ? { 'content-range': `bytes ${from}-${e.length - 1}/${e.length}` } : {}) };
    // downloadTarget reads the range straight from the file (file-response.ts); tuf-js reads the body
    return fileResponse({ file: b.file, start: e.offset + from, length: e.length - from, entry: { start: e.offset, length: e.length } }, { status: range ? 206 : 200, headers });
  }) as typeof fetch;
}

/** Appends entries to a bundle file as they arrive, then the manifest and the end marker. */
export class BundleWriter {
  readonly file: string;
  private fd: number;
  private pos: number;
  private entries: BundleEntry[] = [];
  private seen = new Set<string>();
  constructor(file: string) {
    this.file = file;
    this.fd = fs.openSync(file, 'w', 0o644);
    fs.writeSync(this.fd, BUNDLE_HEADER);
    this.pos = BUNDLE_HEADER.length;
  }
  has(p: string): boolean { return this.seen.has(p); }
  add(p: string, bytes: Uint8Array): void {
    if (this.seen.has(p)) return;
    this.seen.add(p);
    fs.writeSync(this.fd, bytes, 0, bytes.length, this.pos);
    this.entries.push({ path: p, offset: this.pos, length: bytes.length });
    this.pos += bytes.length;
  }
  /** Stream one entry from a file. */
  addFile(p: string, src: string): void {
    if (this.seen.has(p)) return;
    this.seen.add(p);
    const start = this.pos;
    const rfd = fs.openSync(src, 'r');
    try {
      const buf = Buffer.alloc(1 << 20);
      for (let n; (n = fs.readSync(rfd, buf, 0, buf.length, null)) > 0;) {
        fs.writeSync(this.fd, buf, 0, n, this.pos);
        this.pos += n;
      }
    } finally {
      fs.closeSync(rfd);
    }
    this.entries.push({ path: p, offset: start, length: this.pos - start });
  }
  finish(meta: Omit<BundleManifest, 'format' | 'entries'>): BundleManifest {
    const manifest: BundleManifest = { format: 'outpost.bundle/v1', ...meta, entries: this.entries };
    const m = Buffer.from(JSON.stringify(manifest));
    const tail = Buffer.alloc(TRAILER);
    tail.writeBigUInt64BE(BigInt(m.length), 0);
    BUNDLE_END.copy(tail, 8);
    fs.writeSync(this.fd, m, 0, m.length, this.pos);
    fs.writeSync(this.fd, tail, 0, TRAILER, this.pos + m.length);
    fs.closeSync(this.fd);
    return manifest;
  }
  abort(): void {
    try { fs.closeSync(this.fd); } catch { /* closed */ }
    fs.rmSync(this.file, { force: true });
  }
}
