// Reading installed models without the card schema (zod) or the package checks, for the commands
// that must start quickly: `outpost models list` reads the stored cards as the JSON they are
// (installPackage validated each card before storing it), and `outpost score` takes a stored card as
// stored when its mark says the card rules accepted exactly that text (./checked-card.ts).
// Everything else that uses a card to score, pull or check goes through ./models.ts (getModel,
// listModels), which validates the stored card again.
import path from 'node:path';
import { OutpostError, quote } from '../../common/errors.ts';
import type { Card } from '../../package/common/card.ts';
import type { Store } from './store.ts';

export interface InstalledModel {
  name: string;
  version: number;
  dir: string;
  card: Card;
  modelSha256: string;
  cardSha256: string;
  sizeBytes: number;
  source: string;
  signedBy: string | null;
  signedAt: string | null;
  origin: string | null;
  installedAt: string;
  active: boolean;
  /** hub models: the publisher role that signed this version and the keys delegated to it at install */
  signerRole: string | null;
  signerKeyIds: string[] | null;
  /** what the last hub metadata check said: null (fine), 'yanked' or 'revoked', with the reason */
  hubStatus: string | null;
  hubStatusDetail: string | null;
  hubCheckedAt: string | null;
}

export interface ModelRow {
  name: string; version: number; dir: string; card_json: string; model_sha256: string; card_sha256: string;
  size_bytes: number; source: string; signed_by: string | null; signed_at: string | null; origin: string | null;
  installed_at: string; active_version: number | null;
  signer_role: string | null; signer_key_ids: string | null; hub_status: string | null; hub_status_detail: string | null; hub_checked_at: string | null;
  /** cardMark(card_json) when the card rules accepted this stored text unchanged; null before */
  card_checked: string | null;
}

export const MODEL_SELECT = `SELECT m.*, a.version AS active_version FROM models m LEFT JOIN active_models a ON a.name = m.name`;

export function rowToModel(store: Store, r: ModelRow, card: Card): InstalledModel {
  return {
    name: r.name, version: r.version, dir: path.join(store.home, r.dir), card,
    modelSha256: r.model_sha256, cardSha256: r.card_sha256, sizeBytes: r.size_bytes, source: r.source,
    signedBy: r.signed_by, signedAt: r.signed_at, origin: r.origin, installedAt: r.installed_at,
    active: r.active_version === r.version,
    signerRole: r.signer_role, signerKeyIds: r.signer_key_ids ? JSON.parse(r.signer_key_ids) as string[] : null,
    hubStatus: r.hub_status, hubStatusDetail: r.hub_status_detail, hubCheckedAt: r.hub_checked_at,
  };
}

/**
 * Every installed version, by name and version, with its stored card as stored (validated at
 * install, not again here: for listing; score and check with ./models.ts's getModel/listModels).
 */
export function listInstalled(store: Store): InstalledModel[] {
  return (store.db.prepare(`${MODEL_SELECT} ORDER BY m.name, m.version`).all() as ModelRow[]).map((r) => rowToModel(store, r, JSON.parse(r.card_json) as Card));
}

/** Parse "name", "name@3" into parts (version undefined = the active one). */
export function parseModelRef(ref: string): { name: string; version?: number } {
  const m = /^([^@\s]+)(?:@(\d+))?$/.exec(ref);
  if (!m) throw new OutpostError('usage', `${quote(ref)} is not a model reference (expected <name> or <name>@<version>)`);
  if (m[2] === undefined) return { name: m[1] };
  // digits past 2^53 would be read as another number (…999 as …1000) and looked up as that
  const version = Number(m[2]);
  if (version < 1 || version > Number.MAX_SAFE_INTEGER) throw new OutpostError('usage', `the version in ${quote(ref)} must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER} (got ${quote(m[2])})`);
  return { name: m[1], version };
}

/** The stored row of `name` at `version` (the active version when none is given), if installed. */
export function findModelRow(store: Store, name: string, version?: number): ModelRow | undefined {
  return version === undefined
    ? (store.db.prepare(`${MODEL_SELECT} WHERE m.name = ? AND m.version = a.version`).get(name) as ModelRow | undefined)
    : (store.db.prepare(`${MODEL_SELECT} WHERE m.name = ? AND m.version = ?`).get(name, version) as ModelRow | undefined);
}
