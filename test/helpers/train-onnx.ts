// Check a trained package (bytes + card) with the package loader's own card/graph agreement.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Card } from '../../src/package/common/card.ts';
import { loadPackage } from '../../src/package/node/load.ts';

export function loadPackageBytes(bytes: Uint8Array, card: Card): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-train-pkg-'));
  try {
    fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
    fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card));
    loadPackage(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
