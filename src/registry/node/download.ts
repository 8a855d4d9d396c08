// Download one TUF target into the quarantine folder: resumable (HTTP Range from what a previous
// attempt left in `<file>.part`), bounded by the signed length (a longer or endless body is cut off
// and refused), then verified against the signed length and sha256 before it gets its final name.
import fs from 'node:fs';
import type { TargetFile } from '@tufjs/models';
import { PullRefused, PullUnavailable } from './errors.ts';

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

const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** Open the partial file for appending without ever following a planted symlink. */
function openPartial(part: string, truncate: boolean): number {
  try {
    const st = fs.lstatSync(part);
    if (!st.isFile()) fs.rmSync(part, { force: true, recursive: false }); // a link or device: remove the entry itself
  } catch { /* absent */ }
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | NOFOLLOW | (truncate ? fs.constants.O_TRUNC : fs.constants.O_APPEND);
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

async function fetchInto(opts: DownloadOptions, part: string): Promise<void> {
  const total = opts.target.length;
  let have = partialSize(part);
  if (have > total) { fs.rmSync(part, { force: true }); have = 0; }
  if (have === total) return;
  const range = have > 0 ? `bytes=${have}-` : undefined;
  opts.onRequest?.(range);
  const idleMs = opts.idleTimeoutMs ?? 60_000;
  const idle = new AbortController();
  let timer = setTimeout(() => idle.abort(), idleMs);
  const alive = () => { clearTimeout(timer); timer = setTimeout(() => idle.abort(), idleMs); };
  const signals = [opts.signal, idle.signal].filter((s): s is AbortSignal => s !== undefined);
  try {
    await transfer(opts, part, { have, total, range }, { signal: AbortSignal.any(signals), alive, why: () => (idle.signal.aborted ? `no data for ${idleMs / 1000} s` : undefined) });
  } finally {
    clearTimeout(timer);
  }
}

/** The connection's watchdog: aborted after an idle spell, fed by every chunk, saying why it fired. */
interface Watch { signal: AbortSignal; alive(): void; why(): string | undefined }

async function transfer(opts: DownloadOptions, part: string, at: { have: number; total: number; range: string | undefined }, watch: Watch): Promise<void> {
  let have = at.have;
  const { total, range } = at;
  const { signal, alive } = watch;
  const idleReason = watch.why;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(opts.url, { headers: range ? { range } : {}, signal });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new Dropped(idleReason() ?? (e as Error).message);
  }
  let truncate = false;
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== have) { await res.body?.cancel(); truncate = true; have = 0; throw new Dropped('hub answered a different range'); }
  } else if (res.status === 200) {
    truncate = true; // no Range support (or a fresh start): begin again
    have = 0;
  } else if (res.status === 416 && have > 0) {
    await res.body?.cancel();
    fs.rmSync(part, { force: true });
    throw new Dropped('hub refused the resume range');
  } else {
    await res.body?.cancel();
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Dropped(`hub answered ${res.status}`);
    throw new PullRefused('download', `the hub answered ${res.status} for ${opts.target.path}`);
  }
  const fd = openPartial(part, truncate);
  let received = have;
  try {
    if (!res.body) throw new Dropped('empty response');
    const reader = res.body.getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (opts.signal?.aborted) throw e;
        throw new Dropped(idleReason() ?? (e as Error).message);
      }
      if (chunk.done) break;
      alive();
      received += chunk.value.length;
      if (received > total) {
        await reader.cancel().catch(() => undefined);
        throw new PullRefused('download', `${opts.target.path}: the hub sent more than the ${total} bytes the signed metadata allows (endless or substituted file)`);
      }
      fs.writeSync(fd, chunk.value);
      opts.onProgress?.(received, total);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (received < total) throw new Dropped(`connection closed after ${received} of ${total} bytes`);
}

export async function downloadTarget(opts: DownloadOptions): Promise<void> {
  const part = `${opts.dest}.part`;
  const retries = opts.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(opts, part);
      break;
    } catch (e) {
      if (e instanceof PullRefused) { fs.rmSync(part, { force: true }); throw e; }
      if (!(e instanceof Dropped)) throw e;
      if (attempt >= retries) {
        throw new PullUnavailable('download', `download of ${opts.target.path} interrupted (${e.message}) after ${partialSize(part)} of ${opts.target.length} bytes; run the pull again to resume`, { received: partialSize(part) });
      }
    }
  }
  try {
    await opts.target.verify(fs.createReadStream(part));
  } catch (e) {
    fs.rmSync(part, { force: true });
    throw new PullRefused('verify', `${opts.target.path}: ${(e as Error).message} (the bytes are not the ones the publisher signed)`);
  }
  fs.renameSync(part, opts.dest);
}
