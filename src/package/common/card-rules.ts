// Which card rules a stored card was checked under. Installing a model validates its card with the
// schema (./card.ts, zod) and marks the stored card with this id and the stored text's SHA-256;
// scoring then uses a marked card as stored, without loading zod (src/store/node/checked-card.ts,
// getModelForScoring). Any change to card.ts or to zod's version must change this id, so that every
// stored card is validated again once: test/card-mark.test.ts derives it from both and fails until
// it is updated. Pure.
export const CARD_RULES = '06676c71199042a5';
