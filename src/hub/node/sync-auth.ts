// Checking a signed device request (src/sync/common/signature.ts): known, unrevoked device; time
// within the allowed skew; body digest; Ed25519 signature over the signature base. The nonce is
// recorded by `claimNonce` inside the request's own transaction, so a replay is refused by every
// hub process sharing the database.
import crypto from 'node:crypto';
import { DEVICE_ID_RE, DIGEST_RE, MAX_CLOCK_SKEW_SECONDS, NONCE_RE, NONCE_TTL_SECONDS, SIG_HEADERS, signatureBase } from '../../sync/common/signature.ts';
import { contentDigest } from '../../sync/node/device.ts';
import { AuthError, deviceById, type DeviceRow } from './devices.ts';
import type { SqlRunner } from './fleet-schema.ts';
import type { Hub } from './repository.ts';
import { recordRevokedRequest } from './revoked-requests.ts';

export interface SignedRequest { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: Buffer }
export interface VerifiedRequest { device: DeviceRow; nonce: string; time: number }

const header = (h: SignedRequest['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? undefined : v; // a repeated signature header is malformed
};

const unauthorized = (reason: string, message: string) => new AuthError(401, reason, message);

/** Verify a request's signature against the device's enrolled key (no database write, except the security event of a revoked device's request). */
export async function verifySignedRequest(hub: Hub, req: SignedRequest, nowMs = Date.now(), opts: { anyTime?: boolean } = {}): Promise<VerifiedRequest> {
  const deviceId = header(req.headers, SIG_HEADERS.device);
  const timeText = header(req.headers, SIG_HEADERS.time);
  const nonce = header(req.headers, SIG_HEADERS.nonce);
  const sig = header(req.headers, SIG_HEADERS.signature);
  const digest = header(req.headers, SIG_HEADERS.digest);
  if (!deviceId || !timeText || !nonce || !sig || !digest) {
    throw unauthorized('unsigned', `device requests must be signed (headers ${Object.values(SIG_HEADERS).join(', ')})`);
  }
  if (!DEVICE_ID_RE.test(deviceId)) throw unauthorized('unknown-device', 'unknown device');
  if (!NONCE_RE.test(nonce)) throw unauthorized('bad-signature', `${SIG_HEADERS.nonce} must be 16-64 base64url characters`);
  if (!/^\d{1,12}$/.test(timeText)) throw unauthorized('bad-signature', `${SIG_HEADERS.time} must be unix seconds`);
  const time = Number(timeText);
  const skew = time - Math.floor(nowMs / 1000);
  // an exported outbox (`hub import`) was signed days ago: its time is not checked, the ledger makes it exactly-once
  if (!opts.anyTime && Math.abs(skew) > MAX_CLOCK_SKEW_SECONDS) {
    throw unauthorized('stale', `the request's time is ${Math.abs(skew)} s ${skew < 0 ? 'behind' : 'ahead of'} the hub's clock (at most ${MAX_CLOCK_SKEW_SECONDS} s allowed): check this workstation's clock`);
  }
  const m = DIGEST_RE.exec(digest);
  if (!m || m[0] !== contentDigest(req.body)) throw unauthorized('bad-digest', `${SIG_HEADERS.digest} does not match the body`);
  const device = await deviceById(hub, deviceId);
  if (!device) throw unauthorized('unknown-device', 'unknown device (not enrolled on this hub)');
  const base = signatureBase({ method: req.method, path: req.path, device: deviceId, digest, time, nonce });
  let ok = false;
  try {
    ok = crypto.verify(null, Buffer.from(base, 'utf8'), crypto.createPublicKey(device.public_key), Buffer.from(sig, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw unauthorized('bad-signature', 'the request signature does not verify with this device\'s enrolled key');
  // Checked after the signature: only the real device learns that it is revoked (and only its key
  // can make the hub record a refused request as a security event).
  if (device.revoked_at !== null) {
    await recordRevokedRequest(hub, device, req, nowMs);
    throw new AuthError(403, 'revoked', `this device ("${device.name}") was revoked by the hub operator at ${new Date(Number(device.revoked_at)).toISOString()}; it can no longer sync`);
  }
  return { device, nonce, time };
}

/** Record the nonce (inside the request's transaction); a nonce seen before is a replay. */
export async function claimNonce(sql: SqlRunner, v: VerifiedRequest, nowMs = Date.now()): Promise<void> {
  await sql.run('DELETE FROM fleet_nonces WHERE device_id = ? AND expires_at < ?', [v.device.id, nowMs]);
  const fresh = await sql.run('INSERT INTO fleet_nonces (device_id, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT (device_id, nonce) DO NOTHING',
    [v.device.id, v.nonce, v.time * 1000 + NONCE_TTL_SECONDS * 1000]);
  if (fresh === 0) throw unauthorized('replay', 'this request was already received (replayed nonce)');
}
