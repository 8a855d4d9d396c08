// The one way an installed model's bytes reach an inference session (onnxruntime-node in the core,
// onnxruntime-web in the app's what-if explorer): checked, re-hashed, adapted.
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { adaptModel, type AdaptedModel } from '../../onnx/common/adapt.ts';
import { MODEL_FILE, sha256 } from '../../package/node/files.ts';
import type { InstalledModel } from '../../store/node/model-list.ts';
import type { Store } from '../../store/node/store.ts';

/**
 * The installed model's bytes as a session is created from them: the serving check (signed metadata
 * fresh or within its grace period), the file re-hashed against what was verified at install (a
 * modified file is refused and recorded as a security event), then the ZipMap rewrite in memory —
 * the file itself stays as signed. Scoring, `predict` and the app's what-if explorer all load here.
 */
export async function loadVerifiedModel(store: Store, model: InstalledModel, onWarning?: (line: string) => void): Promise<AdaptedModel> {
  if (model.source === 'hub') {
    // a signed model must still be within its metadata's validity (the TUF client loads only for those)
    const { checkServable } = await import('../../registry/node/pull.ts');
    const servable = checkServable(store.home, model);
    if (servable.warning) onWarning?.(servable.warning);
  }
  const file = path.join(model.dir, MODEL_FILE);
  const bytes = fs.readFileSync(file);
  const hash = sha256(bytes);
  if (hash !== model.modelSha256) {
    const { recordSecurityEvent } = await import('../../store/node/models.ts'); // the store's model code (and the card schema) load only here
    recordSecurityEvent(store, 'installed-file-modified', `${model.name}@${model.version}`, `${file}: sha256 ${hash}, installed ${model.modelSha256}`);
    throw new OutpostError('package', `the installed model file was modified on disk (sha256 ${hash.slice(0, 16)}…, verified at install ${model.modelSha256.slice(0, 16)}…); refusing to run it — reinstall or roll back`, { file });
  }
  // What ORT can serve (a ZipMap becomes its probability tensor): rewritten in memory, after the
  // hash check, so the verified file stays as signed.
  return adaptModel(bytes);
}
