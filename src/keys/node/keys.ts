// Signing keys: generate (Ed25519 / ECDSA P-256), store (private key owner-only, optionally
// passphrase-encrypted PKCS#8; public key next to it as `<file>.pub`), load, and express them as TUF
// key objects and signers for @tufjs/models.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Key, Signature } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';
import { canonicalize } from '../common/canonical-json.ts';
import { tufKeyNames, type KeyType } from '../common/key-types.ts';

export interface PrivateKeyHandle {
  type: KeyType;
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
  tufKey: Key;
  keyId: string;
  file: string;
}

export const publicKeyFile = (file: string): string => `${file}.pub`;

function keyTypeOf(k: crypto.KeyObject, file: string): KeyType {
  if (k.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  throw new OutpostError('input', `unsupported key type ${k.asymmetricKeyType}${k.asymmetricKeyDetails?.namedCurve ? ` (${k.asymmetricKeyDetails.namedCurve})` : ''}: use ed25519 or ecdsa-p256`, { file });
}

/** A public key as a TUF key object; the key id is sha256 over its canonical JSON (TUF spec 4.2). */
export function tufKeyFromPublic(publicKey: crypto.KeyObject, file = '(key)'): Key {
  const type = keyTypeOf(publicKey, file);
  const { keyType, scheme } = tufKeyNames[type];
  // Ed25519 keys travel as hex of the raw 32 bytes (the TUF convention); ECDSA as SPKI PEM.
  const pub = type === 'ed25519'
    ? Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('hex')
    : (publicKey.export({ format: 'pem', type: 'spki' }) as string);
  const keyVal = { public: pub };
  const keyID = crypto.createHash('sha256').update(canonicalize({ keytype: keyType, scheme, keyval: keyVal })).digest('hex');
  return new Key({ keyID, keyType, scheme, keyVal });
}

/** A signer for Metadata.sign(). */
export function signerFor(handle: Pick<PrivateKeyHandle, 'type' | 'privateKey' | 'keyId'>): (data: Buffer) => Signature {
  return (data: Buffer) => {
    const sig = handle.type === 'ed25519' ? crypto.sign(null, data, handle.privateKey) : crypto.sign('sha256', data, handle.privateKey);
    return new Signature({ keyID: handle.keyId, sig: sig.toString('hex') });
  };
}

export interface GenerateOptions {
  type?: KeyType;
  passphrase?: string;
  /** replace an existing key file (default: refuse, keys are not overwritten by accident) */
  overwrite?: boolean;
}

/** Create a key pair on disk: `<file>` (0600) and `<file>.pub`. Returns the loaded handle. */
export function generateKeyFile(file: string, opts: GenerateOptions = {}): PrivateKeyHandle {
  const type = opts.type ?? 'ed25519';
  const { privateKey, publicKey } = type === 'ed25519'
    ? crypto.generateKeyPairSync('ed25519')
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export(opts.passphrase
    ? { format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: opts.passphrase }
    : { format: 'pem', type: 'pkcs8' }) as string;
  const pubPem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const abs = path.resolve(file);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  // 'wx' + mode: the private key is never, even briefly, readable by others, and never clobbered.
  const flags = opts.overwrite ? 'w' : 'wx';
  try {
    fs.writeFileSync(abs, pem, { mode: 0o600, flag: flags });
    fs.chmodSync(abs, 0o600); // an overwritten file keeps its old mode otherwise
    fs.writeFileSync(publicKeyFile(abs), pubPem, { mode: 0o644, flag: flags });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OutpostError(code === 'EEXIST' ? 'conflict' : 'input', code === 'EEXIST' ? 'a key file already exists here; choose another --out (keys are never overwritten)' : `cannot write the key: ${(e as Error).message}`, { file: code === 'EEXIST' && fs.existsSync(abs) ? abs : publicKeyFile(abs) });
  }
  const tufKey = tufKeyFromPublic(publicKey, abs);
  return { type, privateKey, publicKey, tufKey, keyId: tufKey.keyID, file: abs };
}

/** Load a private key (PEM PKCS#8, optionally encrypted). */
export function loadPrivateKey(file: string, passphrase?: string): PrivateKeyHandle {
  const abs = path.resolve(file);
  let pem: string;
  try {
    pem = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new OutpostError('input', `cannot read the private key: ${(e as Error).message}`, { file: abs });
  }
  if (!pem.includes('PRIVATE KEY')) throw new OutpostError('input', 'not a PEM private key (expected "-----BEGIN PRIVATE KEY-----" or an encrypted one)', { file: abs });
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(passphrase !== undefined ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' });
  } catch (e) {
    const encrypted = pem.includes('ENCRYPTED');
    throw new OutpostError('input', encrypted
      ? (passphrase === undefined ? 'the private key is passphrase-protected: pass --passphrase-env VAR' : 'wrong passphrase for the private key')
      : `cannot parse the private key: ${(e as Error).message}`, { file: abs });
  }
  const publicKey = crypto.createPublicKey(privateKey);
  const type = keyTypeOf(publicKey, abs);
  const tufKey = tufKeyFromPublic(publicKey, abs);
  return { type, privateKey, publicKey, tufKey, keyId: tufKey.keyID, file: abs };
}

/** Load a public key file (SPKI PEM; a private key file works too). */
export function loadPublicKey(file: string): Key {
  const abs = path.resolve(file);
  let pem: string;
  try {
    pem = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new OutpostError('input', `cannot read the public key: ${(e as Error).message}`, { file: abs });
  }
  if (pem.includes('PRIVATE KEY')) throw new OutpostError('input', 'this is a private key: pass the public key (<file>.pub); private keys stay with their owner', { file: abs });
  let k: crypto.KeyObject;
  try {
    k = crypto.createPublicKey(pem);
  } catch (e) {
    throw new OutpostError('input', `cannot parse the public key: ${(e as Error).message}`, { file: abs });
  }
  return tufKeyFromPublic(k, abs);
}

/** Is the private key file readable by others? (POSIX only; Windows ACLs are not modes.) */
export function isKeyFileExposed(file: string): boolean {
  if (process.platform === 'win32') return false;
  return (fs.statSync(file).mode & 0o077) !== 0;
}
