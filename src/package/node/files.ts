// A model package's two files and the hash every check uses: kept apart from ./load.ts (the card
// schema, zod, the graph inspection) so that scoring, which only re-hashes an installed model, does
// not load those.
import crypto from 'node:crypto';

export const MODEL_FILE = 'model.onnx';
export const CARD_FILE = 'card.json';

export const sha256 = (b: Uint8Array | string): string => crypto.createHash('sha256').update(b).digest('hex');
