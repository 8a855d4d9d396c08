// `outpost models verify`: re-hash installed files against the hashes recorded at install (which
// for hub models are the publisher-signed ones). A modified file is a security event.
import fs from 'node:fs';
import path from 'node:path';
import { MODEL_FILE, CARD_FILE } from '../../package/node/load.ts';
import type { Store } from '../../store/node/store.ts';
import { listModels, recordSecurityEvent, verifyInstalled, type InstalledModel } from '../../store/node/models.ts';

export interface VerifyReport { model: InstalledModel; problems: string[] }

export function verifyModels(store: Store, name?: string): VerifyReport[] {
  const reports: VerifyReport[] = [];
  for (const m of listModels(store)) {
    if (name !== undefined && m.name !== name) continue;
    const problems: string[] = [];
    for (const f of [MODEL_FILE, CARD_FILE]) {
      const p = path.join(m.dir, f);
      try {
        if (fs.lstatSync(p).isSymbolicLink()) problems.push(`${p}: replaced by a symbolic link`);
      } catch { /* reported by verifyInstalled */ }
    }
    problems.push(...verifyInstalled(store, m));
    if (problems.length) recordSecurityEvent(store, 'installed-modified', `${m.name}@${m.version}`, problems.join('; '));
    reports.push({ model: m, problems });
  }
  return reports;
}
