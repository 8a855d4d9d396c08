// Download one TUF target into the quarantine folder: resumable (HTTP Range from what a previous
// attempt left in `<file>.part`), bounded by the signed length (a longer or endless body is cut off
// and refused), then verified against the signed length and hashes before it gets its final name.
//
// One pass: every chunk is hashed (each algorithm the signed metadata names) and handed to the
// caller's sink (the model skeleton reader, the card's bytes) as it is written, so nothing is read
// back from disk to be verified or inspected. Only the bytes of a partial file an earlier run left
// are read once, to bring the hashes and the sink up to where the transfer resumes. What the sink
// gathered is the caller's only after the hashes matched (`downloadTarget` returns it then).
// A body that is a range of a local file (`pull --bundle`, file-response.ts) is read, hashed and
// written on this thread through one reused buffer instead of a web stream; the pass over its
// bytes is the same. A large target from the network is read by the socket straight into eight
// recycled buffers (ring-get.ts), which go back to it once written; fetch answers the rest.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { TargetFile } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';
import { PullRefused, PullUnavailable } from './errors.ts';
import { fileRangeOf, missingFrom, openRangeFile, type FileRange } from './file-response.ts';
import { ringGet, ringGetApplies } from './ring-get.ts';

const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/**
 * Sees every byte of the target in order, from byte 0 (a fresh one for each pass). The chunk is
 * only lent: a sink copies what it keeps.
 */
export interface TargetSink { update(chunk: Uint8Array): void }

/** A sink keeping the bytes (small targets: the card, signed documents). */
export class CollectSink implements TargetSink {
  private chunks: Uint8Array[] = [];
  private length = 0;
  // a copy: `slice()` of a Buffer (a partial read back, a network chunk) would be a view of a reused buffer
  update(chunk: Uint8Array): void { this.chunks.push(new Uint8Array(chunk)); this.length += chunk.length; }
  bytes(): Buffer { return Buffer.concat(this.chunks, this.length); }
}

export interface DownloadOptions {
  url: string;
  target: TargetFile;
  dest: string;
  signal?: AbortSignal;
  /** automatic resumes after a dropped connection within this call */
  retries?: number;
  /** give up on a connection after this long without a byte (not total time: a slow link that keeps moving is fine) */
  idleTimeoutMs?: number;
  onProgress?: (received: number, total: number) => void;
  /** observe each HTTP request (tests: prove a resume used Range) */
  onRequest?: (range: string | undefined) => void;
  /** where the bytes come from (default: the network; `pull --bundle`: a bundle file) */
  fetch?: typeof fetch;
}

export interface Downloaded<S extends TargetSink> {
  /** the verified digests, by algorithm (hex) */
  hashes: Record<string, string>;
  /** the sink that saw exactly the verified bytes (none asked for: undefined) */
  sink: S | undefined;
}

/** The running digests of one pass over the target, and how many bytes it has seen. */
class Pass<S extends TargetSink> {
  fed = 0;
  readonly digests: [string, crypto.Hash][];
  readonly sink: S | undefined;
  constructor(target: TargetFile, sink: S | undefined) {
    this.digests = Object.keys(target.hashes).map((alg) => {
      try {
        return [alg, crypto.createHash(alg)];
      } catch {
        throw new PullRefused('verify', `${target.path}: hash algorithm ${alg} is not supported`);
      }
    });
    this.sink = sink;
  }
  update(chunk: Uint8Array): void {
    for (const [, h] of this.digests) h.update(chunk);
    this.sink?.update(chunk);
    this.fed += chunk.length;
  }
}

/** A pass brought up to the end of the partial file an earlier attempt left (read once). */
function passOver<S extends TargetSink>(part: string, have: number, fresh: () => Pass<S>): Pass<S> {
  const pass = fresh();
  if (have === 0) return pass;
  const fd = fs.openSync(part, fs.constants.O_RDONLY | NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(Math.min(have, 1 << 20));
    while (pass.fed < have) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, have - pass.fed), pass.fed);
      if (n <= 0) break;
      pass.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return pass;
}


/** Open the partial file for appending without ever following a planted symlink. */
function openPartial(part: string, truncate: boolean): number {
  try {
    const st = fs.lstatSync(part);
    if (!st.isFile()) fs.rmSync(part, { force: true, recursive: false }); // a link or device: remove the entry itself
  } catch { /* absent */ }
  // positional writes (FileWriter), so no O_APPEND: Linux would ignore the positions
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | NOFOLLOW | (truncate ? fs.constants.O_TRUNC : 0);
  return fs.openSync(part, flags, 0o600);
}

function partialSize(part: string): number {
  try {
    const st = fs.lstatSync(part);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

class Dropped extends Error {}

async function fetchInto<S extends TargetSink>(opts: DownloadOptions, part: string, state: { pass: Pass<S>; fresh: () => Pass<S> }): Promise<void> {
  const total = opts.target.length;
  let have = partialSize(part);
  if (have > total) { fs.rmSync(part, { force: true }); have = 0; }
  // Within one call the pass has seen exactly what was written; a partial from an earlier run is read once.
  if (state.pass.fed !== have) state.pass = passOver(part, have, state.fresh);
  if (have === total) return;
  const range = have > 0 ? `bytes=${have}-` : undefined;
  opts.onRequest?.(range);
  const idleMs = opts.idleTimeoutMs ?? 60_000;
  const idle = new AbortController();
  let timer = setTimeout(() => idle.abort(), idleMs);
  const alive = () => { clearTimeout(timer); timer = setTimeout(() => idle.abort(), idleMs); };
  const signals = [opts.signal, idle.signal].filter((s): s is AbortSignal => s !== undefined);
  try {
    await transfer(opts, part, state, { have, total, range }, { signal: AbortSignal.any(signals), alive, why: () => (idle.signal.aborted ? `no data for ${idleMs / 1000} s` : undefined) });
  } finally {
    clearTimeout(timer);
  }
}

/** The connection's watchdog: aborted after an idle spell, fed by every chunk, saying why it fired. */
interface Watch { signal: AbortSignal; alive(): void; why(): string | undefined }

/** A network response body as chunks; a chunk of a lent body is the body's until `release`d. */
interface Body {
  next(): Promise<Uint8Array | null>;
  cancel(): Promise<void> | void;
  release?(chunk: Uint8Array): void;
}

function bodyOf(res: Response): Body | undefined {
  if (!res.body) return undefined;
  const reader = res.body.getReader();
  return {
    next: async () => { const c = await reader.read(); return c.done ? null : c.value; },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

/** A target this large is read by `ringGet` (recycled buffers); smaller ones (cards) reuse fetch's connection. */
const RING_MIN = 256 << 10;

/** The answer to one request: status, a header, and the body as chunks or as a local file range. */
interface Answer {
  status: number;
  header(name: string): string | undefined;
  body: Body | undefined;
  /** a 404 from a file (a bundle) that does not hold the path: that file */
  missingFrom?: string;
  /** a file-backed response (`pull --bundle`): read directly, never as a stream */
  local: FileRange | undefined;
  /** the body is not wanted */
  discard(): Promise<unknown> | void;
}

/**
 * GET the target (from `range`). A large target from the network goes through `ringGet` (its body
 * read into recycled buffers); anything it does not take (a redirect, a chunked or encoded body, a
 * proxy), a small target and a caller's own `fetch` (bundles, tests) go through fetch.
 */
async function request(opts: DownloadOptions, range: string | undefined, signal: AbortSignal): Promise<Answer> {
  const headers: Record<string, string> = range ? { range } : {};
  if (!opts.fetch && opts.target.length >= RING_MIN && ringGetApplies(opts.url)) {
    const a = await ringGet(opts.url, headers, signal);
    if (a) return { status: a.status, header: a.header, body: a.body, local: undefined, discard: () => a.body?.cancel() };
  }
  const res = await (opts.fetch ?? fetch)(opts.url, { headers, signal });
  const local = fileRangeOf(res);
  const discard = () => res.body?.cancel().catch(() => undefined);
  if (local) void discard(); // never opened: the file is read directly
  return { status: res.status, header: (n) => res.headers.get(n) ?? undefined, body: local ? undefined : bodyOf(res), local, discard, missingFrom: missingFrom(res) };
}

async function transfer<S extends TargetSink>(opts: DownloadOptions, part: string, state: { pass: Pass<S>; fresh: () => Pass<S> }, at: { have: number; total: number; range: string | undefined }, watch: Watch): Promise<void> {
  let have = at.have;
  const { total, range } = at;
  const { signal, alive } = watch;
  const idleReason = watch.why;
  let res: Answer;
  try {
    res = await request(opts, range, signal);
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new Dropped(idleReason() ?? (e as Error).message);
  }
  let truncate = false;
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.header('content-range') ?? '');
    if (!m || Number(m[1]) !== have) { await res.discard(); truncate = true; have = 0; throw new Dropped('hub answered a different range'); }
  } else if (res.status === 200) {
    truncate = true; // no Range support (or a fresh start): begin again
    have = 0;
  } else if (res.status === 416 && have > 0) {
    await res.discard();
    fs.rmSync(part, { force: true });
    throw new Dropped('hub refused the resume range');
  } else {
    await res.discard();
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Dropped(`hub answered ${res.status}`);
    // not an attack and not the hub's answer: the bundle was made for another version
    if (res.missingFrom) throw new OutpostError('not-found', `${opts.target.path} is not in ${res.missingFrom} (a bundle holds one version's files): make a bundle of this version on the hub (\`outpost hub bundle\`)`);
    throw new PullRefused('download', `the hub answered ${res.status} for ${opts.target.path}`);
  }
  const { local, body } = res;
  if (!local && !body) throw new Dropped('empty response');
  // a file range (a bundle entry) shorter than the signed length will never grow: no resume can help
  if (local && have + local.length < total) {
    await res.discard();
    throw new PullRefused('download', `${local.file} holds ${have + local.length} bytes for ${opts.target.path}, the signed metadata says ${total} (a damaged bundle, or one not made from this metadata)`);
  }
  const fd = openPartial(part, truncate);
  if (truncate) state.pass = state.fresh();
  const pass = state.pass;
  let received = have;
  /** one chunk of the body: bounded by the signed length, hashed (and inspected), progress told */
  const take = async (chunk: Uint8Array): Promise<void> => {
    alive();
    received += chunk.length;
    if (received > total) {
      await body?.cancel();
      throw new PullRefused('download', `${opts.target.path}: the hub sent more than the ${total} bytes the signed metadata allows (endless or substituted file)`);
    }
    pass.update(chunk);
  };
  const progress = () => {
    opts.onProgress?.(received, total);
    if (opts.signal?.aborted) throw opts.signal.reason; // a file body does not see the signal itself
  };
  try {
    if (local) await copyLocal(local, fd, have, take, progress);
    else await copyStream(body!, fd, have, take, progress, (e) => { if (opts.signal?.aborted) throw e; throw new Dropped(idleReason() ?? (e as Error).message); });
  } finally {
    fs.closeSync(fd);
  }
  if (received < total) throw new Dropped(`connection closed after ${received} of ${total} bytes`);
}

/**
 * A network body: each chunk hashed here while the thread pool writes it. A lent body's chunks go
 * back to it once written, in writes of 1 MiB (its buffers' size: eight of them cycle).
 */
async function copyStream(body: Body, fd: number, at: number, take: (c: Uint8Array) => Promise<void>, progress: () => void, failed: (e: unknown) => never): Promise<void> {
  const writer = new FileWriter(fd, at, body.release ? { batch: 1 << 20, release: body.release } : {});
  try {
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await body.next();
      } catch (e) {
        failed(e);
      }
      if (chunk === null) break;
      await take(chunk);
      writer.write(chunk);
      if (writer.full) await writer.drained(false);
      progress();
    }
  } finally {
    await writer.drained(); // every write has landed (or failed: thrown here) before the file is closed
  }
}

/** Bytes read, hashed and written between two turns of the event loop (a pull in a serving process stays responsive). */
const LOCAL_SLICE = 16 << 20;
/** Buffers of a local copy: one being read and hashed, the others' writes in flight. */
const LOCAL_RING = 3;

/**
 * A local file range (a bundle entry): read synchronously into one of three 1 MiB buffers and hashed
 * on this thread while the previous buffers' writes run on the thread pool (the write into the page
 * cache overlaps the hash; the buffers stay warm in the CPU cache). Measured against the earlier
 * pipeline (16 buffers, reads ahead on the thread pool, 4 MiB write batches) and against one buffer
 * written synchronously: see bench/results/README.md. A file that cannot be read, or ends inside
 * the range, is an interruption (Dropped) naming it.
 */
async function copyLocal(range: FileRange, fd: number, at: number, take: (c: Uint8Array) => Promise<void>, progress: () => void): Promise<void> {
  let file;
  try {
    file = openRangeFile(range);
  } catch (e) {
    throw new Dropped((e as Error).message); // the bundle moved away or cannot be read
  }
  // RING buffers: each is read and hashed here, then written on the thread pool while the next is
  // read and hashed; a buffer is read into again only once its write has landed
  const size = Math.min(1 << 20, Math.max(1, range.length));
  const ring = Array.from({ length: LOCAL_RING }, () => ({ buf: new Uint8Array(size), written: Promise.resolve() }));
  let failed: { error: unknown } | undefined;
  try {
    let slice = 0;
    for (let off = 0, i = 0; off < range.length; i = (i + 1) % LOCAL_RING) {
      const slot = ring[i];
      await slot.written;
      if (failed) throw failed.error;
      let n: number;
      try {
        n = file.read(slot.buf, off);
      } catch (e) {
        throw new Dropped((e as Error).message);
      }
      const chunk = slot.buf.subarray(0, n);
      await take(chunk);
      slot.written = writeAllAt(fd, [chunk], at + off).catch((e: unknown) => { failed ??= { error: e }; });
      off += n;
      progress();
      if ((slice += n) >= LOCAL_SLICE) {
        slice = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    await Promise.all(ring.map((r) => r.written)); // every write has landed before the file is closed
    file.close();
  }
  if (failed) throw failed.error;
}

/**
 * Writes chunks at their positions on the thread pool, so writing overlaps hashing on this thread
 * (writing into the page cache costs as much as hashing on some machines). Chunks are gathered into
 * writes of a few MiB (one `writev` each: fewer thread-pool round trips); at most LIMIT bytes are in
 * flight. A chunk lent by its body is handed back (`release`) once its write ended.
 */
class FileWriter {
  private static readonly LIMIT = 32 << 20;
  private inFlight = 0;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private pending = new Set<Promise<void>>();
  private error: unknown;
  private readonly fd: number;
  private pos: number;
  private readonly batchMax: number;
  private readonly release: ((chunk: Uint8Array) => void) | undefined;
  /** `batch`: bytes gathered per write (default 4 MiB); `release`: told of each chunk once its write ended */
  constructor(fd: number, pos: number, o: { batch?: number; release?: (chunk: Uint8Array) => void } = {}) {
    this.fd = fd;
    this.pos = pos;
    this.batchMax = o.batch ?? 4 << 20;
    this.release = o.release;
  }
  get full(): boolean { return this.inFlight >= FileWriter.LIMIT; }
  write(b: Uint8Array): void {
    this.batch.push(b);
    this.batchBytes += b.length;
    if (this.batchBytes >= this.batchMax) this.flush();
  }
  private flush(): void {
    if (!this.batchBytes) return;
    const chunks = this.batch;
    const n = this.batchBytes;
    const at = this.pos;
    this.batch = [];
    this.batchBytes = 0;
    this.pos += n;
    this.inFlight += n;
    const p = writeAllAt(this.fd, chunks, at).catch((e: unknown) => { this.error ??= e; }).finally(() => {
      if (this.release) for (const c of chunks) this.release(c);
      this.inFlight -= n;
      this.pending.delete(p);
    });
    this.pending.add(p);
  }
  /** wait until at most half the limit is in flight (everything written: `all`); a failed write throws */
  async drained(all = true): Promise<void> {
    if (all) this.flush();
    while (this.pending.size && (all || this.inFlight > FileWriter.LIMIT / 2)) await Promise.race(this.pending);
    if (this.error !== undefined) throw this.error;
  }
}

async function writeAllAt(fd: number, chunks: Uint8Array[], at: number): Promise<void> {
  let rest = chunks;
  while (rest.length) {
    const n = await new Promise<number>((resolve, reject) => fs.writev(fd, rest, at, (e, written) => (e ? reject(e) : resolve(written))));
    if (n <= 0) throw new Error('the file system accepted no bytes');
    at += n;
    // a short write: continue after what was written
    let skip = n;
    const next: Uint8Array[] = [];
    for (const c of rest) {
      if (skip >= c.length) { skip -= c.length; continue; }
      next.push(skip ? c.subarray(skip) : c);
      skip = 0;
    }
    rest = next;
  }
}

/**
 * Download, verify, and name the file `dest`. Returns the verified digests and the sink that saw
 * exactly the verified bytes; anything else is a refusal (`verify`) or an interruption.
 */
export async function downloadTarget<S extends TargetSink = TargetSink>(opts: DownloadOptions & { sink?: () => S }): Promise<Downloaded<S>> {
  const part = `${opts.dest}.part`;
  const retries = opts.retries ?? 2;
  const fresh = (): Pass<S> => new Pass(opts.target, opts.sink?.());
  const state = { pass: fresh(), fresh };
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(opts, part, state);
      break;
    } catch (e) {
      if (e instanceof PullRefused) { fs.rmSync(part, { force: true }); throw e; }
      if (!(e instanceof Dropped)) throw e;
      if (attempt >= retries) {
        throw new PullUnavailable('download', `download of ${opts.target.path} interrupted (${e.message}) after ${partialSize(part)} of ${opts.target.length} bytes; run the pull again to resume`, { received: partialSize(part) });
      }
    }
  }
  const { pass } = state;
  const refuse = (why: string): never => {
    fs.rmSync(part, { force: true });
    throw new PullRefused('verify', `${opts.target.path}: ${why} (the bytes are not the ones the publisher signed)`);
  };
  if (pass.fed !== opts.target.length || partialSize(part) !== opts.target.length) refuse(`Expected length ${opts.target.length} but got ${pass.fed}`);
  const hashes: Record<string, string> = {};
  for (const [alg, h] of pass.digests) {
    const got = h.digest('hex');
    if (got !== opts.target.hashes[alg]) refuse(`Expected hash ${opts.target.hashes[alg]} but got ${got}`);
    hashes[alg] = got;
  }
  fs.renameSync(part, opts.dest);
  return { hashes, sink: pass.sink };
}
