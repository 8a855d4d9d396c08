// The checked-card mark (models.card_checked): written by ./models.ts when the card rules accepted a
// stored card text and returned it unchanged, read by ./checked-card.ts to skip them.
import { CARD_RULES } from '../../package/common/card-rules.ts';
import { sha256 } from '../../package/node/files.ts';

/** The mark of a stored card text that the card rules (CARD_RULES) accepted and returned unchanged. */
export const cardMark = (cardJson: string): string => `${CARD_RULES}:${sha256(cardJson)}`;
