// The hub's online keys (snapshot, timestamp) in <hub>/keys/: `<role>.key` is the one in use,
// `<role>.next.key` one made for a rotation that the offline root has not signed yet. The key that
// signs is always the one the CURRENT root names, looked up per use: after a rotation applied by
// another hub process (shared folder and database), this one re-reads the folder and follows.
import fs from 'node:fs';
import path from 'node:path';
import type { Metadata, Root } from '@tufjs/models';
import { OutpostError } from '../../common/errors.ts';
import { generateKeyFile, loadPrivateKey, publicKeyFile, type PrivateKeyHandle } from '../../keys/node/keys.ts';

export type OnlineRole = 'snapshot' | 'timestamp';
export const ONLINE_ROLES: OnlineRole[] = ['snapshot', 'timestamp'];

export class OnlineKeys {
  readonly dir: string;
  private ring = new Map<string, PrivateKeyHandle>();
  constructor(dir: string) {
    this.dir = dir;
    this.reload();
  }

  file(role: OnlineRole, next = false): string {
    return path.join(this.dir, `${role}${next ? '.next' : ''}.key`);
  }

  reload(): void {
    this.ring.clear();
    for (const role of ONLINE_ROLES) {
      for (const next of [false, true]) {
        const f = this.file(role, next);
        if (fs.existsSync(f)) { const k = loadPrivateKey(f); this.ring.set(k.keyId, k); }
      }
    }
  }

  has(keyId: string): boolean {
    if (!this.ring.has(keyId)) this.reload();
    return this.ring.has(keyId);
  }

  /** The key of `role` that `root` names (re-reading the folder once when it is not known yet). */
  for(root: Metadata<Root>, role: OnlineRole): PrivateKeyHandle {
    const ids = root.signed.roles[role]?.keyIDs ?? [];
    const find = () => ids.map((id) => this.ring.get(id)).find((k) => k !== undefined);
    let k = find();
    if (!k) { this.reload(); k = find(); }
    if (!k) throw new OutpostError('store', `this hub holds no ${role} key that root v${root.signed.version} names (${ids.map((i) => i.slice(0, 12)).join(', ')}); is the hub folder the one this database belongs to?`);
    return k;
  }

  /** Make (or return the pending) next key of a role, for a rotation. */
  createNext(role: OnlineRole): PrivateKeyHandle {
    const f = this.file(role, true);
    const k = fs.existsSync(f) ? loadPrivateKey(f) : generateKeyFile(f);
    this.ring.set(k.keyId, k);
    return k;
  }

  /** After a root naming the next key was committed: it becomes `<role>.key`, the old one is retired. */
  promote(root: Metadata<Root>): void {
    for (const role of ONLINE_ROLES) {
      const next = this.file(role, true);
      if (!fs.existsSync(next)) continue;
      const k = loadPrivateKey(next);
      if (!root.signed.roles[role]?.keyIDs.includes(k.keyId)) continue;
      const cur = this.file(role);
      if (fs.existsSync(cur)) {
        const old = loadPrivateKey(cur);
        const retired = path.join(this.dir, 'retired');
        fs.mkdirSync(retired, { recursive: true });
        const dest = path.join(retired, `${role}-${old.keyId.slice(0, 16)}.key`);
        fs.renameSync(cur, dest);
        fs.renameSync(publicKeyFile(cur), publicKeyFile(dest));
      }
      fs.renameSync(next, cur);
      fs.renameSync(publicKeyFile(next), publicKeyFile(cur));
    }
    this.reload();
  }
}
