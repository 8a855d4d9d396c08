// The hub's blob bodies (src/hub/node/send-range.ts): a range of a file through four recycled 1 MiB
// buffers. A buffer is read into again only once its write completed, so a client that reads slowly
// (writes pending in the socket) still gets exactly the file's bytes; the file is closed when the
// body is done, when the client goes away and when the file ends inside the range.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendRange } from '../src/hub/node/send-range.ts';
import { tmpDir } from './helpers/hub-fixtures.ts';

const work = tmpDir('outpost-send-range-');
const file = path.join(work, 'blob.bin');
const bytes = crypto.randomBytes((9 << 20) + 123); // > 4 buffers: each is reused
fs.writeFileSync(file, bytes);

/** Open descriptors of this process that point at `f`. */
const openOn = (f: string) => fs.readdirSync('/proc/self/fd').filter((d) => { try { return fs.readlinkSync(`/proc/self/fd/${d}`) === f; } catch { return false; } }).length;

async function until(what: string, ok: () => boolean) {
  for (let i = 0; i < 500 && !ok(); i++) await sleep(10);
  assert.ok(ok(), what);
}

let server: http.Server;
let port = 0;
before(async () => {
  // /<start>/<end>[/<declared length>]: the range, sent as the whole body
  server = http.createServer((req, res) => {
    const [start, end, declared] = req.url!.slice(1).split('/').map(Number);
    res.writeHead(200, { 'content-length': declared || end - start + 1 });
    sendRange(res, fs.openSync(file, 'r'), start, end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fs.rmSync(work, { recursive: true, force: true });
});

/** GET a range; `slow`: the socket is paused for a while after each of the first chunks, so the server's writes back up */
function get(p: string, o: { slow?: boolean; abortAfter?: number } = {}): Promise<{ body: Buffer; error?: Error }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      const chunks: Buffer[] = [];
      let got = 0;
      let pauses = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (o.abortAfter !== undefined && got >= o.abortAfter) { req.destroy(); resolve({ body: Buffer.concat(chunks) }); return; }
        if (o.slow && pauses++ < 20) { res.pause(); setTimeout(() => res.resume(), 15); }
      });
      res.on('end', () => resolve({ body: Buffer.concat(chunks) }));
      res.on('error', (error) => resolve({ body: Buffer.concat(chunks), error }));
      res.on('aborted', () => resolve({ body: Buffer.concat(chunks), error: new Error('aborted') }));
    });
    req.on('error', reject);
  });
}

test('a range of the file, exactly, through reused buffers — also to a client that reads slowly', async () => {
  for (const [start, end] of [[0, bytes.length - 1], [5, bytes.length - 2], [(1 << 20) - 1, (3 << 20) + 1], [7, 7]]) {
    for (const slow of [false, true]) {
      const r = await get(`/${start}/${end}`, { slow });
      assert.equal(r.error, undefined);
      assert.ok(r.body.equals(bytes.subarray(start, end + 1)), `bytes ${start}-${end}${slow ? ' (slow client)' : ''} differ`);
    }
  }
  await until('the file is closed after each body', () => openOn(file) === 0);
});

test('a client that goes away mid-body: the file is closed, the server keeps serving', async () => {
  const r = await get(`/0/${bytes.length - 1}`, { abortAfter: 2 << 20 });
  assert.ok(r.body.length >= 2 << 20 && r.body.length < bytes.length);
  await until('the file is closed once the client left', () => openOn(file) === 0);
  const again = await get(`/0/${bytes.length - 1}`);
  assert.ok(again.body.equals(bytes));
});

test('a file that ends inside the range: the body is cut short (never other bytes) and the file closed', async () => {
  const past = bytes.length + (2 << 20);
  const r = await get(`/0/${past}/${past + 1}`);
  assert.ok(r.error, 'the client sees an interrupted body');
  assert.ok(r.body.length <= bytes.length && r.body.equals(bytes.subarray(0, r.body.length)), 'what arrived is a prefix of the file');
  await until('the file is closed', () => openOn(file) === 0);
});
