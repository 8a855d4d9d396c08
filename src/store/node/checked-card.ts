// The installed model a scoring run uses, without loading the card schema (zod) when the stored card
// carries a mark that fits it: the card rules (CARD_RULES) accepted exactly this stored text and
// returned it unchanged, so it is what they would return now. ./models.ts writes the marks
// (installPackage, getCheckedModel) and validates everything else.
import type { Card } from '../../package/common/card.ts';
import { cardMark } from './card-mark.ts';
import { findModelRow, parseModelRef, rowToModel, type InstalledModel } from './model-list.ts';
import type { Store } from './store.ts';

/**
 * The installed model `ref`, for scoring. A stored card whose mark matches its text is used as
 * stored: the card rules accepted exactly this text and returned it unchanged, so it is what they
 * would return now. Any other (installed before marks, its text changed since, the rules changed)
 * is validated by ./models.ts with the schema, loaded only then, which fails as getModel does or
 * marks the card for the next run. Unknown references fail there too, with getModel's message.
 */
export async function getModelForScoring(store: Store, ref: string): Promise<InstalledModel> {
  const { name, version } = parseModelRef(ref);
  const row = findModelRow(store, name, version);
  if (row && row.card_checked !== null && row.card_checked === cardMark(row.card_json)) return rowToModel(store, row, JSON.parse(row.card_json) as Card);
  const { getCheckedModel } = await import('./models.ts');
  return getCheckedModel(store, ref);
}
