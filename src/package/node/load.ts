// Load a model package directory (model.onnx + card.json): parse and validate the card, inspect the
// graph, and check that the two agree. Every problem is reported with the file it is in.
import fs from 'node:fs';
import path from 'node:path';
import { OutpostError } from '../../common/errors.ts';
import { inspectModel, type ModelInfo } from '../../onnx/common/onnx.ts';
import { modelMonitoring } from '../../monitor/common/features.ts';
import { checkAgreement } from '../common/agreement.ts';
import { parseCard, type Card } from '../common/card.ts';
import { CARD_FILE, MODEL_FILE, sha256 } from './files.ts';

export { CARD_FILE, MODEL_FILE, sha256 };

/** A checked package whose model file stays on disk (a pull: checked from its download pass). */
export interface CheckedPackage {
  dir: string;
  card: Card;
  graph: ModelInfo;
  cardBytes: Uint8Array;
  /** the model file's bytes when they were read into memory */
  modelBytes?: Uint8Array;
  modelSize: number;
  modelSha256: string;
  cardSha256: string;
}

export interface LoadedPackage extends CheckedPackage {
  modelBytes: Uint8Array;
}

function readFileIn(dir: string, name: string): Buffer {
  const file = path.join(dir, name);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'missing' : code === 'EISDIR' ? 'is a folder' : (e as Error).message;
    throw new OutpostError('package', `${name} ${why} (a model package holds ${MODEL_FILE} and ${CARD_FILE})`, { file });
  }
}

export function loadPackage(dir: string): LoadedPackage {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new OutpostError('package', 'not a model package folder', { file: abs });
  return checkPackage(abs, readFileIn(abs, CARD_FILE), readFileIn(abs, MODEL_FILE));
}

/**
 * Validate a package whose files are already in memory (the registry has just read and verified
 * them): parse the card, inspect the graph, check they agree. `dir` names where they live.
 */
export function checkPackage(dir: string, cardBytes: Uint8Array, modelBytes: Uint8Array, graph?: ModelInfo): LoadedPackage {
  if (!graph) {
    try {
      graph = inspectModel(modelBytes);
    } catch (e) {
      throw new OutpostError('package', `not a readable ONNX model: ${(e as Error).message}`, { file: path.join(path.resolve(dir), MODEL_FILE) });
    }
  }
  const pkg = checkPackageParts(dir, cardBytes, graph, { size: modelBytes.length, sha256: sha256(modelBytes) }, sha256(cardBytes));
  return { ...pkg, modelBytes };
}

/**
 * Validate a package from its card's bytes and its model's inspected graph, size and hash (which
 * the caller computed while reading it once): parse the card, check card and graph agree, check
 * the drift settings. `dir` names where the files live.
 */
export function checkPackageParts(dir: string, cardBytes: Uint8Array, graph: ModelInfo, model: { size: number; sha256: string }, cardSha256: string): CheckedPackage {
  const abs = path.resolve(dir);
  const cardFile = path.join(abs, CARD_FILE);

  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cardBytes.buffer, cardBytes.byteOffset, cardBytes.byteLength).toString('utf8'));
  } catch (e) {
    throw new OutpostError('package', `not valid JSON: ${(e as Error).message}`, { file: cardFile });
  }
  const parsed = parseCard(raw);
  if (!parsed.ok) {
    throw new OutpostError('package', `invalid card: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { file: cardFile }, { problems: parsed.problems });
  }
  const problems = checkAgreement(parsed.card, graph);
  if (problems.length) {
    throw new OutpostError('package', `card and graph disagree: ${problems.join('; ')}`, { file: abs }, { problems });
  }
  // A broken drift baseline would silently switch monitoring off later: refuse it here instead.
  const monitoring = modelMonitoring(parsed.card);
  if (monitoring.status === 'invalid') {
    throw new OutpostError('package', `invalid drift baseline or settings: ${monitoring.problems.join('; ')}`, { file: cardFile, field: 'baseline' }, { problems: monitoring.problems });
  }
  return { dir: abs, card: parsed.card, graph, cardBytes, modelSize: model.size, modelSha256: model.sha256, cardSha256 };
}
