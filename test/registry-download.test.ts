// The one-pass download (src/registry/node/download.ts): bytes are hashed and handed to the sink as
// they are written; what the sink gathered is returned only when every signed hash and the length
// match; a partial an earlier run left is read once and never trusted on its own. The bytes come
// through the `fetch` hook bundles use (answers built from a file, with Range), so every response
// shape — resume, restart, tampering — is exact.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { TargetFile } from '@tufjs/models';
import { encodeModel, inspectModel } from '../src/onnx/common/onnx.ts';
import { modelSkeletonReader } from '../src/onnx/common/skeleton.ts';
import { CollectSink, downloadTarget } from '../src/registry/node/download.ts';
import { PullRefused, PullUnavailable } from '../src/registry/node/errors.ts';
import { fileResponse, openRangeFile } from '../src/registry/node/file-response.ts';
import { tmpDir } from './helpers/hub-fixtures.ts';

const work = tmpDir('outpost-dl-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

const model = encodeModel({
  name: 'g', nodes: [{ op: 'Identity', inputs: ['a'], outputs: ['y'] }],
  inputs: [{ name: 'a', type: 'float', shape: ['N', 1] }], outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
  initializers: [{ name: 'E', type: 'float', dims: [200_000], data: new Float32Array(200_000).map((_, i) => i) }],
});
const hex = (alg: string, b: Uint8Array) => crypto.createHash(alg).update(b).digest('hex');
const target = (hashes: Record<string, string> = { sha256: hex('sha256', model) }, length = model.length) =>
  new TargetFile({ path: 'm/1/model.onnx', length, hashes });

/** A fetch serving `body` (Range honoured unless `ignoreRange`), cutting the first `cuts` responses after `cutAfter` bytes. */
function server(body: Uint8Array, o: { ignoreRange?: boolean; cuts?: number; cutAfter?: number } = {}) {
  const ranges: (string | null)[] = [];
  let cuts = o.cuts ?? 0;
  const f = (async (_url: string, init?: RequestInit) => {
    const range = new Headers(init?.headers).get('range');
    ranges.push(range);
    const from = range && !o.ignoreRange ? Number(/^bytes=(\d+)-$/.exec(range)![1]) : 0;
    let rest = body.subarray(from);
    const cut = cuts-- > 0;
    if (cut) rest = rest.subarray(0, o.cutAfter ?? 1000);
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at < rest.length) { c.enqueue(rest.slice(at, at + 4096)); at += 4096; return; }
        if (cut) c.error(new Error('connection reset')); else c.close();
      },
    });
    return new Response(stream, { status: from ? 206 : 200, headers: from ? { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` } : {} });
  }) as typeof fetch;
  return { fetch: f, ranges };
}

const dest = (name: string) => path.join(work, name);

test('one pass: the sink sees exactly the verified bytes; the skeleton inspects like the file', async () => {
  const s = server(model);
  const r = await downloadTarget({ url: 'x', target: target(), dest: dest('a.onnx'), fetch: s.fetch, sink: () => modelSkeletonReader(model.length) });
  assert.equal(r.hashes.sha256, hex('sha256', model));
  const sk = r.sink!.finish();
  assert.ok(sk.ok);
  assert.deepEqual(inspectModel(sk.skeleton), inspectModel(model));
  assert.deepEqual(fs.readFileSync(dest('a.onnx')), Buffer.from(model));
  assert.equal(fs.existsSync(dest('a.onnx.part')), false);
});

test('a dropped connection resumes with Range inside the call; a partial from an earlier run is read once and verified with the rest', async () => {
  const s = server(model, { cuts: 3, cutAfter: 50_000 });
  await assert.rejects(downloadTarget({ url: 'x', target: target(), dest: dest('b.onnx'), fetch: s.fetch, retries: 2, sink: () => new CollectSink() }), PullUnavailable);
  assert.deepEqual(s.ranges, [null, 'bytes=50000-', 'bytes=100000-']);
  assert.equal(fs.statSync(dest('b.onnx.part')).size, 150_000);
  const again = server(model);
  const r = await downloadTarget({ url: 'x', target: target(), dest: dest('b.onnx'), fetch: again.fetch, sink: () => new CollectSink() });
  assert.deepEqual(again.ranges, ['bytes=150000-']);
  assert.deepEqual(r.sink!.bytes(), Buffer.from(model), 'the sink saw the partial (read back once) and the rest');
});

test('a partial modified on disk between runs is not trusted: the whole file is refused at verify and removed', async () => {
  const bad = Uint8Array.from(model.subarray(0, 100_000));
  bad[5000] ^= 1;
  fs.writeFileSync(dest('c.onnx.part'), bad);
  const s = server(model);
  await assert.rejects(downloadTarget({ url: 'x', target: target(), dest: dest('c.onnx'), fetch: s.fetch }),
    (e: unknown) => e instanceof PullRefused && e.stage === 'verify' && /Expected hash .* not the ones the publisher signed/.test(e.message));
  assert.deepEqual(s.ranges, ['bytes=100000-']);
  assert.equal(fs.existsSync(dest('c.onnx.part')), false);
  assert.equal(fs.existsSync(dest('c.onnx')), false);
});

test('a server that ignores Range restarts the pass: hashes and sink start again from byte 0', async () => {
  fs.writeFileSync(dest('d.onnx.part'), model.subarray(0, 70_000));
  const s = server(model, { ignoreRange: true });
  const r = await downloadTarget({ url: 'x', target: target(), dest: dest('d.onnx'), fetch: s.fetch, sink: () => new CollectSink() });
  assert.deepEqual(r.sink!.bytes(), Buffer.from(model));
});

test('every signed hash is checked; an unknown algorithm or a wrong length is refused', async () => {
  const both = { sha256: hex('sha256', model), sha512: hex('sha512', model) };
  const ok = await downloadTarget({ url: 'x', target: target(both), dest: dest('e.onnx'), fetch: server(model).fetch });
  assert.deepEqual(ok.hashes, both);
  await assert.rejects(downloadTarget({ url: 'x', target: target({ ...both, sha512: hex('sha512', Buffer.from('other')) }), dest: dest('f.onnx'), fetch: server(model).fetch }),
    (e: unknown) => e instanceof PullRefused && e.stage === 'verify' && /Expected hash/.test(e.message));
  const s = server(model);
  await assert.rejects(downloadTarget({ url: 'x', target: target({ ...both, md17: 'aa' }), dest: dest('g.onnx'), fetch: s.fetch }),
    (e: unknown) => e instanceof PullRefused && e.stage === 'verify' && /hash algorithm md17 is not supported/.test(e.message));
  assert.deepEqual(s.ranges, [], 'refused before any request');
  // signed length shorter than the body: cut off and refused; longer: the transfer ends short (interrupted, resumable)
  await assert.rejects(downloadTarget({ url: 'x', target: target(undefined, model.length - 1), dest: dest('h.onnx'), fetch: server(model).fetch }),
    (e: unknown) => e instanceof PullRefused && e.stage === 'download');
  await assert.rejects(downloadTarget({ url: 'x', target: target(undefined, model.length + 1), dest: dest('i.onnx'), fetch: server(model).fetch, retries: 0 }), PullUnavailable);
});

// `pull --bundle`: a body that is a range of a local file is read straight into recycled buffers
// (file-response.ts) and goes through the same pass: the bytes written must be the bytes hashed
// even though every buffer is reused many times.
const big = crypto.randomBytes(24 << 20); // > the 16 recycled 1 MiB buffers: each is reused
const bigFile = path.join(work, 'entries.bin');
const PREFIX = 12_345; // the entry starts inside the file, like a bundle entry
fs.writeFileSync(bigFile, Buffer.concat([crypto.randomBytes(PREFIX), big, crypto.randomBytes(777)]));
const fileFetch = (file = bigFile, length = big.length) => (async (_url: string, init?: RequestInit) => {
  const range = new Headers(init?.headers).get('range');
  const from = range ? Number(/^bytes=(\d+)-$/.exec(range)![1]) : 0;
  return fileResponse({ file, start: PREFIX + from, length: length - from }, { status: from ? 206 : 200, headers: from ? { 'content-range': `bytes ${from}-${length - 1}/${length}` } : {} });
}) as typeof fetch;

test('a file body is read into recycled buffers: the file written and the sink hold exactly the hashed bytes', async () => {
  const t = new TargetFile({ path: 'm/1/model.onnx', length: big.length, hashes: { sha256: hex('sha256', big) } });
  const r = await downloadTarget({ url: 'x', target: t, dest: dest('big.onnx'), fetch: fileFetch(), sink: () => new CollectSink() });
  assert.equal(r.hashes.sha256, hex('sha256', big));
  assert.ok(fs.readFileSync(dest('big.onnx')).equals(big), 'every byte written is the byte hashed (no buffer reused before its write landed)');
  assert.ok(r.sink!.bytes().equals(big));
  // the same response read as a web stream (what tuf-js does with metadata) gives the same bytes
  const res = await fileFetch()('x', { headers: { range: 'bytes=1000-' } });
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(big.subarray(1000)));
  fs.rmSync(dest('big.onnx'));
});

test('a file body that ends early (the bundle cut while read) is an interruption naming the file and byte; the partial resumes', async () => {
  const cut = path.join(work, 'cut.bin');
  fs.writeFileSync(cut, fs.readFileSync(bigFile).subarray(0, PREFIX + (5 << 20) + 3));
  const t = new TargetFile({ path: 'm/1/model.onnx', length: big.length, hashes: { sha256: hex('sha256', big) } });
  await assert.rejects(downloadTarget({ url: 'x', target: t, dest: dest('cut.onnx'), fetch: fileFetch(cut), retries: 1 }),
    (e: unknown) => e instanceof PullUnavailable && e.stage === 'download' && e.message.includes(`${cut} ends at byte ${PREFIX + (5 << 20) + 3}, inside the entry`) && /run the pull again to resume/.test(e.message));
  assert.equal(fs.statSync(dest('cut.onnx.part')).size, (5 << 20) + 3, 'what the file held was written and kept for a resume');
  const r = await downloadTarget({ url: 'x', target: t, dest: dest('cut.onnx'), fetch: fileFetch(), sink: () => new CollectSink() });
  const sb = r.sink!.bytes(); let d = 0; while (d < sb.length && sb[d] === big[d]) d++;
  assert.ok(sb.equals(big), `the resume read the partial once and the rest from the whole file (${sb.length} bytes, first difference at ${d})`);
  assert.ok(fs.readFileSync(dest('cut.onnx')).equals(big));
  fs.rmSync(dest('cut.onnx'));
});

test('a file body longer than the signed length is cut off and refused, as a network body is', async () => {
  const t = new TargetFile({ path: 'm/1/model.onnx', length: big.length - 1, hashes: { sha256: hex('sha256', big) } });
  await assert.rejects(downloadTarget({ url: 'x', target: t, dest: dest('long.onnx'), fetch: fileFetch() }),
    (e: unknown) => e instanceof PullRefused && e.stage === 'download' && /more than the .* bytes the signed metadata allows/.test(e.message));
  assert.equal(fs.existsSync(dest('long.onnx.part')), false);
});

test('openRangeFile: the range in order into one buffer; a cut file or a short prefetch named at the byte', () => {
  const r = openRangeFile({ file: bigFile, start: PREFIX + 5, length: 10_000 });
  const buf = new Uint8Array(1000);
  const got: Buffer[] = [];
  for (let at = 0, n; (n = r.read(buf, at)) > 0; at += n) got.push(Buffer.from(buf.subarray(0, n)));
  r.close();
  assert.ok(Buffer.concat(got).equals(big.subarray(5, 10_005)));
  // a range past the file's end: what the file holds, then the byte where it ended
  const size = fs.statSync(bigFile).size;
  const cut = openRangeFile({ file: bigFile, start: size - 100, length: 1000 });
  assert.equal(cut.read(buf, 0), 100);
  assert.throws(() => cut.read(buf, 100), (e: unknown) => e instanceof Error && e.message.includes(`${bigFile} ends at byte ${size}`));
  cut.close();
  // bytes already read (a small entry) that are fewer than the range: the same report
  const small = openRangeFile({ file: bigFile, start: 7, length: 10, bytes: new Uint8Array([1, 2, 3]) });
  assert.equal(small.read(buf, 0), 3);
  assert.throws(() => small.read(buf, 3), /ends at byte 10, inside the entry at 7–17/);
  assert.equal(openRangeFile({ file: bigFile, start: 0, length: 0 }).read(buf, 0), 0);
});

test('a file body that cannot be opened or read is an interruption naming the file; an abort stops the reads', async () => {
  const t = new TargetFile({ path: 'm/1/model.onnx', length: big.length, hashes: { sha256: hex('sha256', big) } });
  const gone = path.join(work, 'gone.bin');
  await assert.rejects(downloadTarget({ url: 'x', target: t, dest: dest('gone.onnx'), fetch: fileFetch(gone), retries: 0 }),
    (e: unknown) => e instanceof PullUnavailable && e.stage === 'download' && e.message.includes(`cannot read ${gone}`) && /ENOENT/.test(e.message));
  const dir = openRangeFile({ file: work, start: 0, length: 10 });
  assert.throws(() => dir.read(new Uint8Array(10), 0), (e: unknown) => e instanceof Error && e.message.includes(`cannot read ${work} at byte 0`) && /EISDIR/.test(e.message));
  dir.close();
  // the caller's abort (Ctrl-C): the pass stops at the next chunk; what was written stays for a resume
  const ac = new AbortController();
  await assert.rejects(downloadTarget({ url: 'x', target: t, dest: dest('abort.onnx'), fetch: fileFetch(), signal: ac.signal, onProgress: (n) => { if (n >= 3 << 20) ac.abort(); } }),
    (e: unknown) => e instanceof Error && e.name === 'AbortError');
  const kept = fs.statSync(dest('abort.onnx.part')).size;
  assert.ok(kept >= 3 << 20 && kept < big.length, `${kept} bytes kept`);
  assert.equal(fs.existsSync(dest('abort.onnx')), false);
});
