import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata, Targets } from '@tufjs/models';
import { OutpostError } from '../src/common/errors.ts';
import { canonicalize } from '../src/keys/common/canonical-json.ts';
import { generateKeyFile, loadPrivateKey, loadPublicKey, signerFor } from '../src/keys/node/keys.ts';
import { runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const tmp = () => tempDir('outpost-keys-');

function signAndVerify(file: string, passphrase?: string) {
  const k = loadPrivateKey(file, passphrase);
  const md = new Metadata(new Targets({ version: 1, specVersion: '1.0.31', expires: '2099-01-01T00:00:00Z' }));
  md.sign(signerFor(k));
  const pub = loadPublicKey(`${file}.pub`);
  assert.equal(pub.keyID, k.keyId, 'the public key file yields the same key id');
  pub.verifySignature(md); // throws when the signature is wrong
  // and a changed document no longer verifies
  const tampered = new Metadata(new Targets({ version: 2, specVersion: '1.0.31', expires: '2099-01-01T00:00:00Z' }), md.signatures);
  assert.throws(() => pub.verifySignature(tampered));
}

for (const type of ['ed25519', 'ecdsa-p256'] as const) {
  test(`${type}: private key owner-only, public key next to it, signs TUF metadata`, () => {
    const dir = tmp();
    const file = path.join(dir, 'pub.key');
    const k = generateKeyFile(file, { type });
    assert.match(k.keyId, /^[0-9a-f]{64}$/);
    if (process.platform !== 'win32') assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(`${file}.pub`, 'utf8'), /BEGIN PUBLIC KEY/);
    assert.equal(k.tufKey.keyType, type === 'ed25519' ? 'ed25519' : 'ecdsa');
    signAndVerify(file);
  });
}

test('passphrase: encrypted PEM, wrong or missing passphrase refused clearly', () => {
  const file = path.join(tmp(), 'k.key');
  generateKeyFile(file, { passphrase: 'correct horse' });
  assert.match(fs.readFileSync(file, 'utf8'), /ENCRYPTED PRIVATE KEY/);
  signAndVerify(file, 'correct horse');
  assert.throws(() => loadPrivateKey(file), (e: unknown) => e instanceof OutpostError && /passphrase-protected/.test(e.message));
  assert.throws(() => loadPrivateKey(file, 'wrong'), (e: unknown) => e instanceof OutpostError && /wrong passphrase/.test(e.message));
});

test('existing key files are never overwritten', () => {
  const file = path.join(tmp(), 'k.key');
  const a = generateKeyFile(file);
  assert.throws(() => generateKeyFile(file), (e: unknown) => e instanceof OutpostError && e.code === 'conflict');
  assert.equal(loadPrivateKey(file).keyId, a.keyId);
});

test('a private key is refused where a public key belongs; garbage is refused', () => {
  const dir = tmp();
  const file = path.join(dir, 'k.key');
  generateKeyFile(file);
  assert.throws(() => loadPublicKey(file), /this is a private key/);
  fs.writeFileSync(path.join(dir, 'junk'), 'hello');
  assert.throws(() => loadPrivateKey(path.join(dir, 'junk')), /not a PEM private key/);
});

test('canonical JSON: sorted keys, minimal escaping, integers only', () => {
  assert.equal(canonicalize({ b: 1, a: ['x"y', true, null], c: 'a\\b' }), '{"a":["x\\"y",true,null],"b":1,"c":"a\\\\b"}');
  assert.throws(() => canonicalize({ a: 1.5 }));
});

const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) => runMain(argv, { env });

test('CLI: keys generate --json, --passphrase-env, bad --type is a usage error', async () => {
  const dir = tmp();
  const file = path.join(dir, 'team.key');
  const r = await cli(['keys', 'generate', '--out', file, '--type', 'ecdsa-p256', '--passphrase-env', 'PW', '--json', '--home', dir], { PW: 'pw' });
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { keyId: string; encrypted: boolean };
  assert.equal(j.encrypted, true);
  assert.equal(loadPrivateKey(file, 'pw').keyId, j.keyId);
  const bad = await cli(['keys', 'generate', '--out', path.join(dir, 'x'), '--type', 'rsa', '--home', dir]);
  assert.equal(bad.code, 2);
  const noEnv = await cli(['keys', 'generate', '--out', path.join(dir, 'y'), '--passphrase-env', 'NOPE', '--home', dir]);
  assert.equal(noEnv.code, 2);
  assert.match(noEnv.err, /NOPE/);
});
