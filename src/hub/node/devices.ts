// The fleet's devices on the hub: one-time enrollment codes (expiring, single use, cancellable,
// stored only as a hash), enrollment that binds a device's Ed25519 public key to a name, listing
// and revocation.
import crypto from 'node:crypto';
import { OutpostError, quote } from '../../common/errors.ts';
import { CODE_ALPHABET, formatCode, normalizeCode } from '../../sync/common/signature.ts';
import { cliOptions, type NameOf } from '../common/input-names.ts';
import { checkModelFilter, deviceHealth, deviceMatches, STALE_AFTER_MS, type DeviceFilterShape } from '../common/fleet-health.ts';
import type { DeviceState, DeviceView } from '../common/fleet-views.ts';
import type { Hub } from './repository.ts';
import { hashToken } from './tokens.ts';

export const DEVICE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const GROUP_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const DEFAULT_CODE_TTL_SECONDS = 24 * 3600;
/** An enrollment's inputs as `outpost hub devices add` names them (keys: the admin API's body fields). */
const ENROLLMENT_OPTIONS = cliOptions({ expiresSeconds: '--expires' });

export interface DeviceRow {
  id: string; name: string; grp: string; public_key: string; enrolled_at: number; revoked_at: number | null;
  last_seen_at: number | null; outpost_version: string | null; state_json: string | null; state_seq: number;
  quota_day: number; quota_bytes: number; items: number; max_seq: number;
}

function checkName(name: string, group: string): void {
  if (!DEVICE_NAME_RE.test(name)) throw new OutpostError('usage', `device name ${quote(name)} must be 1-64 letters, digits, ".", "_" or "-" (starting with a letter or digit)`);
  if (group !== '' && !GROUP_RE.test(group)) throw new OutpostError('usage', `group ${quote(group)} must be 1-64 letters, digits, ".", "_" or "-"`);
}

const randomCode = (): string => Array.from(crypto.randomBytes(16), (b) => CODE_ALPHABET[b & 31]).join('');

/**
 * A one-time enrollment code for a new device (shown once; the hub keeps its hash). `n` names the
 * inputs in messages: `outpost hub devices add`'s options by default, the admin API's body fields.
 */
export async function createEnrollment(hub: Hub, opts: { name: string; group?: string; ttlSeconds?: number; now?: number }, n: NameOf = ENROLLMENT_OPTIONS): Promise<{ code: string; name: string; group: string; expiresAt: string }> {
  const group = opts.group ?? '';
  checkName(opts.name, group);
  const ttl = opts.ttlSeconds ?? DEFAULT_CODE_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 30 * 86400) throw new OutpostError('usage', `${n('expiresSeconds')} must be a whole number of seconds from 60 to ${30 * 86400} (got ${String(ttl)})`);
  const now = opts.now ?? Date.now();
  const code = randomCode();
  await hub.storage.fleetTransaction(undefined, async (sql) => {
    const taken = await sql.all<{ revoked_at: number | null }>('SELECT revoked_at FROM fleet_devices WHERE name = ?', [opts.name]);
    if (taken.length) throw new OutpostError('conflict', `a device named ${quote(opts.name)} is already enrolled${taken[0].revoked_at !== null ? ' (revoked)' : ''}; choose another name`);
    // a new code for the same name replaces any unused one
    await sql.run('DELETE FROM fleet_enrollments WHERE name = ? AND used_at IS NULL', [opts.name]);
    await sql.run('INSERT INTO fleet_enrollments (code_hash, name, grp, created_at, expires_at) VALUES (?, ?, ?, ?, ?)', [hashToken(code), opts.name, group, now, now + ttl * 1000]);
  });
  return { code: formatCode(code), name: opts.name, group, expiresAt: new Date(now + ttl * 1000).toISOString() };
}

/** An enrollment code not used yet, as `outpost hub devices codes` lists it (the code itself is not kept: only its hash). */
export interface EnrollmentView {
  name: string;
  group: string;
  createdAt: string;
  expiresAt: string;
  /** outstanding: can still enroll its device; expired; cancelled (by the operator) */
  state: 'outstanding' | 'expired' | 'cancelled';
  cancelledAt: string | null;
}

interface EnrollmentRow { name: string; grp: string; created_at: number; expires_at: number; used_at: number | null; cancelled_at: number | null }

const enrollmentView = (r: EnrollmentRow, now: number): EnrollmentView => ({
  name: r.name, group: r.grp, createdAt: iso(r.created_at)!, expiresAt: iso(r.expires_at)!,
  state: r.cancelled_at !== null ? 'cancelled' : Number(r.expires_at) <= now ? 'expired' : 'outstanding', cancelledAt: iso(r.cancelled_at),
});

/** Enrollment codes not used yet (at most one per device name: a new code replaces the old), by name. */
export async function listEnrollments(hub: Hub, now = Date.now()): Promise<EnrollmentView[]> {
  const rows = await hub.storage.fleet.all<EnrollmentRow>('SELECT name, grp, created_at, expires_at, used_at, cancelled_at FROM fleet_enrollments WHERE used_at IS NULL ORDER BY name', []);
  return rows.map((r) => enrollmentView(r, now));
}

/**
 * Cancel the unused enrollment code for device `name`: redeeming it is refused from now on. The
 * code is either used or cancelled, never both: each side's update only takes an unused, uncancelled row.
 */
export async function cancelEnrollment(hub: Hub, name: string, now = Date.now()): Promise<EnrollmentView & { alreadyCancelled: boolean }> {
  return hub.storage.fleetTransaction(undefined, async (sql) => {
    const [r] = await sql.all<EnrollmentRow>('SELECT name, grp, created_at, expires_at, used_at, cancelled_at FROM fleet_enrollments WHERE name = ? AND used_at IS NULL', [name]);
    if (!r) {
      const used = await sql.all('SELECT 1 FROM fleet_enrollments WHERE name = ? AND used_at IS NOT NULL', [name]);
      throw new OutpostError('not-found', used.length
        ? `the enrollment code for ${quote(name)} was already used: the device is enrolled (revoke it with \`outpost hub devices revoke --name ${name}\`)`
        : `no enrollment code for ${quote(name)} (see \`outpost hub devices codes\`)`);
    }
    if (r.cancelled_at !== null) return { ...enrollmentView(r, now), alreadyCancelled: true };
    // conditional: an enrollment that committed since the read above keeps its code
    const n = await sql.run('UPDATE fleet_enrollments SET cancelled_at = ? WHERE name = ? AND used_at IS NULL AND cancelled_at IS NULL', [now, name]);
    if (n !== 1) throw new OutpostError('conflict', `the enrollment code for ${quote(name)} was used or cancelled a moment ago (see \`outpost hub devices codes\`)`);
    return { ...enrollmentView({ ...r, cancelled_at: now }, now), alreadyCancelled: false };
  });
}

/** An Ed25519 public key given as SPKI PEM; a clear error otherwise. */
export function parseDevicePublicKey(pem: unknown): crypto.KeyObject {
  if (typeof pem !== 'string' || pem.length > 1000) throw new OutpostError('input', 'publicKey must be an Ed25519 public key (SPKI PEM)');
  let k: crypto.KeyObject;
  try {
    k = crypto.createPublicKey(pem);
  } catch (e) {
    throw new OutpostError('input', `publicKey is not a public key: ${(e as Error).message}`);
  }
  if (k.asymmetricKeyType !== 'ed25519') throw new OutpostError('input', `device keys are Ed25519 (got ${k.asymmetricKeyType})`);
  return k;
}

/**
 * Redeem a code: the device named by it is created with this public key. Wrong, expired and used
 * codes are refused alike in what they register (nothing), each with its own message.
 */
export async function redeemEnrollment(hub: Hub, opts: { code: string; publicKey: crypto.KeyObject; outpostVersion?: string; now?: number }): Promise<{ deviceId: string; name: string; group: string }> {
  const code = normalizeCode(opts.code);
  if (!code) throw enrollError('the enrollment code is not valid (16 characters, like ABCD-EFGH-JKMN-PQRS)');
  const now = opts.now ?? Date.now();
  const pem = opts.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  return hub.storage.fleetTransaction(undefined, async (sql) => {
    const [e] = await sql.all<{ name: string; grp: string; expires_at: number; used_at: number | null; cancelled_at: number | null }>('SELECT name, grp, expires_at, used_at, cancelled_at FROM fleet_enrollments WHERE code_hash = ?', [hashToken(code)]);
    if (!e) throw enrollError('the enrollment code is unknown (mistyped, or replaced by a newer code for the same device); ask the hub operator for a new one');
    if (e.used_at !== null) throw enrollError('the enrollment code was already used; a code enrolls one device once — ask the hub operator for a new one');
    if (e.cancelled_at !== null) throw enrollError(`the enrollment code was cancelled by the hub operator at ${new Date(Number(e.cancelled_at)).toISOString()}; ask the hub operator for a new one`);
    if (e.expires_at <= now) throw enrollError(`the enrollment code expired at ${new Date(e.expires_at).toISOString()}; ask the hub operator for a new one`);
    const taken = await sql.all('SELECT 1 FROM fleet_devices WHERE name = ? OR public_key = ?', [e.name, pem]);
    if (taken.length) throw new OutpostError('conflict', `a device named ${quote(e.name)} or with this key is already enrolled`);
    const deviceId = `dev_${Array.from(crypto.randomBytes(20), (b) => CODE_ALPHABET[b & 31].toLowerCase()).join('')}`;
    await sql.run('INSERT INTO fleet_devices (id, name, grp, public_key, enrolled_at, outpost_version) VALUES (?, ?, ?, ?, ?, ?)', [deviceId, e.name, e.grp, pem, now, opts.outpostVersion ?? null]);
    // conditional: a cancel (or another redeem) committed since the read above wins, and this enrollment rolls back
    const claimed = await sql.run('UPDATE fleet_enrollments SET used_at = ?, device_id = ? WHERE code_hash = ? AND used_at IS NULL AND cancelled_at IS NULL', [now, deviceId, hashToken(code)]);
    if (claimed !== 1) throw enrollError('the enrollment code was used or cancelled a moment ago; ask the hub operator for a new one');
    return { deviceId, name: e.name, group: e.grp };
  });
}

/** Errors a client shows as "not allowed" (HTTP 403). */
export class AuthError extends OutpostError {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super('input', message, {}, { reason });
    this.status = status;
    this.reason = reason;
  }
}
const enrollError = (message: string) => new AuthError(403, 'enrollment', message);

export async function deviceById(hub: Hub, id: string): Promise<DeviceRow | undefined> {
  return (await hub.storage.fleet.all<DeviceRow>('SELECT * FROM fleet_devices WHERE id = ?', [id]))[0];
}

export async function deviceByName(hub: Hub, name: string): Promise<DeviceRow> {
  const [d] = await hub.storage.fleet.all<DeviceRow>('SELECT * FROM fleet_devices WHERE name = ?', [name]);
  if (!d) throw new OutpostError('not-found', `no device named ${quote(name)} (see \`outpost hub devices list\`)`);
  return d;
}

export type { DeviceState, DeviceView } from '../common/fleet-views.ts';

/** group ("" = no group), model ("name" or "name@3": active on the device), health, name; now: for staleness */
export interface DeviceFilter extends DeviceFilterShape { now?: number }

/** The fleet's devices (the CLI's `hub devices list` and the console's Fleet screen: one query). */
export async function listDevices(hub: Hub, filter: DeviceFilter = {}): Promise<DeviceView[]> {
  if (filter.model !== undefined) checkModelFilter(filter.model);
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.group !== undefined) { where.push('d.grp = ?'); args.push(filter.group); }
  if (filter.name !== undefined) { where.push('d.name = ?'); args.push(filter.name); }
  const rows = await hub.storage.fleet.all<DeviceRow & { rows_scored: number | null; open_alerts: number | null }>(`SELECT d.*,
    (SELECT sum(j.rows_scored) FROM fleet_jobs j WHERE j.device_id = d.id) AS rows_scored,
    (SELECT count(*) FROM fleet_alerts a WHERE a.device_id = d.id AND a.cleared_at IS NULL) AS open_alerts
    FROM fleet_devices d ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.name`, args);
  const now = filter.now ?? hub.now().getTime();
  // The backlog: what the device had waiting when it wrote its last heartbeat, less what the hub
  // received of it since (items older than the heartbeat that arrived after it was written; the
  // heartbeat goes out at the start of a sync, so the same sync usually delivers them).
  const since = new Map<string, { at: number; n: number }[]>();
  for (const r of await hub.storage.fleet.all<{ device_id: string; received_at: number; n: number }>(
    `SELECT i.device_id, i.received_at, count(*) AS n FROM fleet_items i JOIN fleet_devices d ON d.id = i.device_id
     WHERE i.seq < d.state_seq AND i.received_at >= d.last_seen_at - ${STALE_AFTER_MS} ${where.length ? `AND ${where.join(' AND ')}` : ''} GROUP BY i.device_id, i.received_at`, args)) {
    const l = since.get(r.device_id) ?? [];
    l.push({ at: Number(r.received_at), n: Number(r.n) });
    since.set(r.device_id, l);
  }
  const all = rows.map((d): DeviceView => {
    const state = d.state_json ? JSON.parse(d.state_json) as DeviceState : null;
    const delivered = (since.get(d.id) ?? []).filter((x) => state?.at !== undefined && x.at >= state.at).reduce((n, x) => n + x.n, 0);
    const v = {
      id: d.id, name: d.name, group: d.grp, enrolledAt: iso(d.enrolled_at)!, revokedAt: iso(d.revoked_at), lastSeenAt: iso(d.last_seen_at),
      outpostVersion: d.outpost_version, items: Number(d.items), maxSeq: Number(d.max_seq), rowsScored: Number(d.rows_scored ?? 0),
      openAlerts: Number(d.open_alerts ?? 0), state,
      active: (state?.models ?? []).filter((m) => m.active).map((m) => ({ name: m.name, version: m.version })),
      provider: state?.provider ?? null, backlog: state?.waiting === undefined ? null : Math.max(0, state.waiting - delivered),
    };
    return { ...v, health: deviceHealth(v, now) };
  });
  return all.filter((d) => deviceMatches(d, filter));
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(Number(t)).toISOString());

export async function revokeDevice(hub: Hub, name: string, now = Date.now()): Promise<{ name: string; alreadyRevoked: boolean }> {
  return hub.storage.fleetTransaction(undefined, async (sql) => {
    const [d] = await sql.all<{ revoked_at: number | null }>('SELECT revoked_at FROM fleet_devices WHERE name = ?', [name]);
    if (!d) throw new OutpostError('not-found', `no device named ${quote(name)} (see \`outpost hub devices list\`)`);
    if (d.revoked_at !== null) return { name, alreadyRevoked: true };
    await sql.run('UPDATE fleet_devices SET revoked_at = ? WHERE name = ?', [now, name]);
    return { name, alreadyRevoked: false };
  });
}
