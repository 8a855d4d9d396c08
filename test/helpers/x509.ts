// A small X.509 builder for tests (DER by hand, keys and signatures from node:crypto): a CA and the
// server certificates it issues, ECDSA P-256 / SHA-256. No openssl binary, no dependency.
import crypto from 'node:crypto';

const len = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const int = (b: Buffer) => tlv(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const octets = (b: Buffer) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
function oid(text: string): Buffer {
  const [a, b, ...rest] = text.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) { chunk.unshift((v & 0x7f) | (chunk.length ? 0x80 : 0)); if (v < 128) break; }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
function time(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(s.slice(2))) : tlv(0x18, Buffer.from(s));
}
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));
const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

export interface Issued { certPem: string; keyPem: string; key: crypto.KeyObject; cert: crypto.X509Certificate; name: string }

function keyId(pub: crypto.KeyObject): Buffer {
  const spki = pub.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha1').update(spki).digest();
}

/**
 * A certificate: a CA (self-signed unless `issuer`) or, with `hosts`, a server certificate for those
 * host names / IP addresses. Validity from `notBefore` (default an hour ago) for `days` (may be negative: expired).
 */
export function issue(opts: { cn: string; ca?: boolean; hosts?: string[]; issuer?: Issued; days?: number; notBefore?: Date }): Issued {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const start = opts.notBefore ?? new Date(Date.now() - 3_600_000);
  const end = new Date(start.getTime() + (opts.days ?? 30) * 86_400_000);
  const notBefore = end < start ? new Date(end.getTime() - 86_400_000) : start;
  const serial = crypto.randomBytes(12);
  // positive, and a first byte that is not 0: DER integers are minimal, and a leading zero before a
  // byte below 0x80 is "illegal padding" to OpenSSL (1 certificate in ~256 failed hub-tls so)
  serial[0] = (serial[0] & 0x3f) | 0x40;
  const issuerName = opts.issuer ? opts.issuer.name : opts.cn;
  const signer = opts.issuer?.key ?? privateKey;
  const authority = keyId(opts.issuer ? crypto.createPublicKey(opts.issuer.key) : publicKey);
  const exts = [
    ext('2.5.29.19', true, opts.ca ? seq(bool(true)) : seq()),
    ext('2.5.29.15', true, opts.ca ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0x80]), 7)),
    ext('2.5.29.14', false, octets(keyId(publicKey))),
    ext('2.5.29.35', false, seq(tlv(0x80, authority))),
  ];
  if (opts.hosts) {
    const alt = opts.hosts.map((h) => (/^[\d.]+$/.test(h) ? tlv(0x87, Buffer.from(h.split('.').map(Number))) : tlv(0x82, Buffer.from(h))));
    exts.push(ext('2.5.29.17', false, seq(...alt)));
    exts.push(ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))));
  }
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))), int(serial), ECDSA_SHA256, name(issuerName),
    seq(time(notBefore), time(end)), name(opts.cn), publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...exts)),
  );
  const der = seq(tbs, ECDSA_SHA256, bits(crypto.sign('sha256', tbs, signer)));
  const certPem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, key: privateKey, cert: new crypto.X509Certificate(certPem), name: opts.cn };
}
