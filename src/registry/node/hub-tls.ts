// Transport trust for hubs served over HTTPS, shared by every client of a hub (pull, models check,
// connect, sync, publish, the offline commands, the app).
//
// What a client trusts for https://: Node's bundled CA list, the operating system's store (where an
// organisation installs its own CA), and a CA certificate given for a hub with `--ca FILE`, which is
// stored with that hub's trust (<home>/trust/<hub-id>/ca.pem) so that later commands need no flag.
// Node's fetch takes no per-request CA without an extra HTTP client, so the CAs are added to this
// process's default trust (tls.setDefaultCACertificates): a CA given for one hub is trusted for the
// other hub connections of the same process too. That is the whole of what a process here connects to.
//
// TLS protects the tokens and the privacy of the traffic. The content is protected by TUF whatever
// the transport, which is why a certificate failure is reported as "cannot connect securely", never
// as a refused signature.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { OutpostError } from '../../common/errors.ts';
import { hubBase, trustPaths } from './trust.ts';

let baseline: string[] | undefined;
let systemStore: string[] | undefined;
const added = new Map<string, string>(); // sha256 of DER -> PEM

function apply(): void {
  baseline ??= tls.getCACertificates('default');
  tls.setDefaultCACertificates([...baseline, ...(systemStore ?? []), ...added.values()]);
}

/** Add the operating system's CA store to this process's trust (once). */
function useSystemStore(): void {
  if (systemStore) return;
  try {
    systemStore = tls.getCACertificates('system');
  } catch {
    systemStore = [];
  }
  apply();
}

/** The certificates in a PEM file, each checked to parse as X.509; an error names the file. */
export function readCaFile(file: string): { pems: string[]; subjects: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new OutpostError('input', `cannot read the CA certificate: ${(e as Error).message}`, { file });
  }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!pems.length) throw new OutpostError('input', 'not a PEM certificate file (expected -----BEGIN CERTIFICATE-----)', { file });
  const subjects = pems.map((pem, i) => {
    try {
      return new crypto.X509Certificate(pem).subject.replace(/\n/g, ', ');
    } catch (e) {
      throw new OutpostError('input', `certificate ${i + 1} is not a valid X.509 certificate: ${(e as Error).message}`, { file });
    }
  });
  return { pems, subjects };
}

function trustPems(pems: string[]): void {
  let changed = false;
  for (const pem of pems) {
    const id = crypto.createHash('sha256').update(new crypto.X509Certificate(pem).raw).digest('hex');
    if (!added.has(id)) { added.set(id, pem); changed = true; }
  }
  if (changed) apply();
}

export const storedCaFile = (home: string, url: string): string => path.join(trustPaths(home, url).dir, 'ca.pem');

/**
 * `--ca FILE` for a hub: check it, keep a copy with the hub's trust (replacing an earlier one: the
 * hub's CA changed) and trust it now. Without a home (a publisher's one-off command), only trust it.
 */
export function setHubCa(home: string | undefined, url: string, file: string): { stored?: string; subjects: string[] } {
  const { pems, subjects } = readCaFile(file);
  if (new URL(hubBase(url)).protocol !== 'https:') throw new OutpostError('usage', `--ca is for a hub served over HTTPS; ${hubBase(url)} is plain http`);
  let stored: string | undefined;
  if (home) {
    stored = storedCaFile(home, url);
    fs.mkdirSync(path.dirname(stored), { recursive: true, mode: 0o700 });
    const tmp = `${stored}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, pems.join('\n') + '\n', { mode: 0o600 });
    fs.renameSync(tmp, stored);
  }
  useSystemStore();
  trustPems(pems);
  return { stored, subjects };
}

/**
 * Before contacting a hub: for https, the system store and the CA stored for that hub (if any).
 * Every client calls this; it is cheap after the first time.
 */
export function prepareHubTrust(home: string | undefined, url: string): void {
  const base = hubBase(url);
  if (new URL(base).protocol !== 'https:') return;
  useSystemStore();
  if (!home) return;
  const f = storedCaFile(home, base);
  if (fs.existsSync(f)) trustPems(readCaFile(f).pems);
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** Is this URL one a secret may be sent to: https, or http to this machine only. */
export function isSafeTransport(url: string): boolean {
  const u = new URL(hubBase(url));
  return u.protocol === 'https:' || LOOPBACK.test(u.hostname);
}

/**
 * Tokens and enrollment codes never go over plain http to another machine unless the user says so
 * (`--allow-http`): anyone on the path could read them and publish, or enroll, in their name.
 */
export function requireSafeTransport(url: string, secret: string, allowHttp: boolean): void {
  if (allowHttp || isSafeTransport(url)) return;
  throw new OutpostError('usage', `refusing to send the ${secret} over plain http to ${hubBase(url)}: anyone on the network path could read it. Serve the hub over HTTPS (hub serve --tls-cert/--tls-key, or a TLS reverse proxy) and use https://, or pass --allow-http if this network is trusted`);
}

const UNTRUSTED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED', 'INVALID_CA']);

/**
 * A failed request's cause in words, TLS failures made explicit: `tls` is set when the connection
 * could not be made secure (certificate not trusted, wrong host name, expired, not TLS at all).
 */
export function connectionFailure(url: string, e: unknown): { tls: boolean; message: string } {
  let base: string;
  try { base = hubBase(url); } catch { base = url; }
  const err = e as Error & { cause?: Error & { code?: string; reason?: string } };
  const cause = err.cause ?? err;
  const code = (cause as { code?: string }).code ?? '';
  const detail = cause.message?.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca/, '') ?? '';
  const secure = (why: string) => ({ tls: true, message: `cannot connect securely to the hub at ${base} (TLS): ${why}` });
  if (UNTRUSTED.has(code)) return secure(`its certificate is not issued by a CA this machine trusts (${detail}); give the hub's CA certificate with --ca FILE`);
  if (code === 'CERT_HAS_EXPIRED') return secure(`its certificate has expired (${detail}); the hub operator must renew it`);
  if (code === 'CERT_NOT_YET_VALID') return secure(`its certificate is not valid yet (${detail}); check this machine's clock`);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return secure(`its certificate is not for this host name (${(cause as { reason?: string }).reason ?? detail})`);
  if (/^ERR_SSL_|^ERR_TLS_|^CERT_|_CERT_|^UNABLE_TO_/.test(code)) {
    if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|HTTP_REQUEST/.test(code)) return secure(`it does not speak TLS on this port (${code}); is it served over plain http://?`);
    return secure(`${detail || code}`);
  }
  const why = err.name === 'TimeoutError' ? 'timed out' : code || cause.message || err.message;
  // a TLS server closes a plain-http request without an answer
  if (new URL(base).protocol === 'http:' && /UND_ERR_SOCKET|ECONNRESET|other side closed/.test(`${code} ${cause.message}`)) {
    return { tls: false, message: `the hub at ${base} is unreachable (it closed the connection without answering: ${why}; if the hub is served over HTTPS, use ${base.replace(/^http:/, 'https:')})` };
  }
  return { tls: false, message: `the hub at ${base} is unreachable (${why})` };
}
