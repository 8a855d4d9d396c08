// This workstation as a fleet device: its Ed25519 key pair in the data folder (private key
// owner-only, made with src/keys) and signed requests to its hub.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { generateKeyFile, isKeyFileExposed, loadPrivateKey, type PrivateKeyHandle } from '../../keys/node/keys.ts';
import type { HubConnection } from '../../store/node/sync-state.ts';
import { SIG_HEADERS, signatureBase } from '../common/signature.ts';

export const DEVICE_KEY_FILE = path.join('device', 'device.key');

export const OUTPOST_VERSION: string = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

/** The device key, created on first use. A private key readable by others is refused, not used. */
export function deviceKey(home: string, create: boolean): PrivateKeyHandle {
  const file = path.join(home, DEVICE_KEY_FILE);
  if (!fs.existsSync(file)) {
    if (!create) throw new OutpostError('not-found', `this workstation has no device key (${file}); connect it with \`outpost connect\``);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    return generateKeyFile(file, { type: 'ed25519' });
  }
  if (isKeyFileExposed(file)) throw new OutpostError('input', 'the device private key is readable by other users; fix with `chmod 600` (or reconnect with a new key)', { file });
  const k = loadPrivateKey(file);
  if (k.type !== 'ed25519') throw new OutpostError('input', 'the device key must be Ed25519', { file });
  return k;
}

export const publicKeyPem = (k: PrivateKeyHandle): string => k.publicKey.export({ format: 'pem', type: 'spki' }) as string;

export const contentDigest = (body: Uint8Array): string => `sha-256=:${crypto.createHash('sha256').update(body).digest('base64')}:`;

/** The headers that sign a request from this device. */
export function signRequest(conn: Pick<HubConnection, 'deviceId'>, key: PrivateKeyHandle, method: string, pathAndQuery: string, body: Uint8Array, now = Date.now()): Record<string, string> {
  const digest = contentDigest(body);
  const time = Math.floor(now / 1000);
  const nonce = crypto.randomBytes(18).toString('base64url');
  const base = signatureBase({ method, path: pathAndQuery, device: conn.deviceId, digest, time, nonce });
  const sig = crypto.sign(null, Buffer.from(base, 'utf8'), key.privateKey).toString('base64');
  return { [SIG_HEADERS.device]: conn.deviceId, [SIG_HEADERS.time]: String(time), [SIG_HEADERS.nonce]: nonce, [SIG_HEADERS.digest]: digest, [SIG_HEADERS.signature]: sig };
}

/** The text a device signs to prove it holds the key it enrolls (with the code it redeems). */
export const enrollProofText = (code: string, publicKeyPem: string): string =>
  `outpost-enroll-v1\n${code.toUpperCase().replace(/[\s-]/g, '')}\n${crypto.createHash('sha256').update(publicKeyPem).digest('hex')}`;
