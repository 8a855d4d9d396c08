// `hub serve --tls-cert F --tls-key F`: the certificate and key, checked before the hub listens so
// that a wrong file is named at start-up, not discovered by the first device.
import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { OutpostError } from '../../common/errors.ts';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** the leaf certificate: who it names and until when */
  subject: string;
  altNames: string;
  validTo: Date;
}

const read = (file: string, what: string): Buffer => {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new OutpostError('input', `cannot read the TLS ${what}: ${(e as Error).message}`, { file });
  }
};

export function loadTlsFiles(certFile: string, keyFile: string): TlsFiles {
  const cert = read(certFile, 'certificate');
  const key = read(keyFile, 'private key');
  let leaf: crypto.X509Certificate;
  try {
    const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(cert.toString('utf8'));
    if (!first) throw new Error('no -----BEGIN CERTIFICATE----- block');
    leaf = new crypto.X509Certificate(first[0]);
  } catch (e) {
    throw new OutpostError('input', `not a PEM certificate: ${(e as Error).message}`, { file: certFile });
  }
  try {
    crypto.createPrivateKey(key);
  } catch (e) {
    throw new OutpostError('input', `not a PEM private key (an encrypted key is not supported): ${(e as Error).message}`, { file: keyFile });
  }
  try {
    tls.createSecureContext({ cert, key });
  } catch (e) {
    throw new OutpostError('input', `the private key does not belong to the certificate ${certFile} (${(e as Error).message})`, { file: keyFile });
  }
  return { cert, key, subject: leaf.subject.replace(/\n/g, ', '), altNames: leaf.subjectAltName ?? '', validTo: new Date(leaf.validTo) };
}
