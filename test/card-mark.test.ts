// Scoring takes an installed model's stored card as stored when its mark says the card rules (zod)
// accepted exactly that text and returned it unchanged (src/store/node/checked-card.ts):
// `outpost score` then starts without loading zod. Anything else — no mark,
// the stored text changed since it was marked, other rules — is validated with zod as before.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { OutpostError } from '../src/common/errors.ts';
import { CARD_RULES } from '../src/package/common/card-rules.ts';
import { cardMark } from '../src/store/node/card-mark.ts';
import { getModelForScoring } from '../src/store/node/checked-card.ts';
import { getModel, installPackage } from '../src/store/node/models.ts';
import { openStore, type Store } from '../src/store/node/store.ts';
import { runCli, REPO } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const root = tempDir();
after(() => fs.rmSync(root, { recursive: true, force: true }));
const DEMO = path.join(REPO, 'models', 'demo', 'weather');
const REF = 'seattle-weather@1';

function installed(name: string): Store {
  const store = openStore(path.join(root, name));
  installPackage(store, DEMO, { source: 'local', allowUnsigned: true });
  return store;
}
const row = (store: Store) => store.db.prepare("SELECT card_json, card_checked FROM models WHERE name = 'seattle-weather' AND version = 1").get() as { card_json: string; card_checked: string | null };
const setRow = (store: Store, cardJson: string, checked: string | null) => store.db.prepare("UPDATE models SET card_json = ?, card_checked = ? WHERE name = 'seattle-weather'").run(cardJson, checked);
/** the card exactly as a value: same keys in the same order, same values */
const sameCard = (a: unknown, b: unknown) => { assert.deepStrictEqual(a, b); assert.equal(JSON.stringify(a), JSON.stringify(b)); };

test('CARD_RULES names the card schema and zod version that marked cards were checked with', () => {
  const zod = (JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'zod', 'package.json'), 'utf8')) as { version: string }).version;
  const source = fs.readFileSync(path.join(REPO, 'src', 'package', 'common', 'card.ts'), 'utf8');
  const id = createHash('sha256').update(`${source}\nzod@${zod}`).digest('hex').slice(0, 16);
  assert.equal(CARD_RULES, id, `card.ts or zod changed: set CARD_RULES in src/package/common/card-rules.ts to '${id}' (stored cards are then validated again once)`);
});

test('install marks the stored card; scoring takes a marked card as stored, equal to what the schema returns', async () => {
  const store = installed('marked');
  const r = row(store);
  assert.equal(r.card_checked, cardMark(r.card_json));
  assert.match(r.card_checked!, new RegExp(`^${CARD_RULES}:[0-9a-f]{64}$`));
  const fast = await getModelForScoring(store, 'seattle-weather');
  sameCard(fast.card, getModel(store, REF).card);
  assert.deepStrictEqual({ ...fast, card: null }, { ...getModel(store, REF), card: null });
  store.close();
});

test('a stored card changed after it was marked is validated again: an invalid one is refused, a valid one re-marked', async () => {
  const store = installed('changed');
  const { card_json: text, card_checked: mark } = row(store);
  const card = JSON.parse(text) as { inputs: { type: string }[]; description?: string };
  // invalid (a float input with a vocabulary), the old mark left in place: the mark no longer fits the text
  setRow(store, JSON.stringify({ ...card, inputs: [{ ...card.inputs[0], vocabulary: ['a'] }, ...card.inputs.slice(1)] }), mark);
  await assert.rejects(getModelForScoring(store, REF), (e) => e instanceof OutpostError && e.code === 'store' && /stored card of seattle-weather@1 is invalid/.test(e.message));
  // valid but different: validated, used, and marked anew
  const edited = JSON.stringify({ ...card, description: 'edited in the store' });
  setRow(store, edited, mark);
  const m = await getModelForScoring(store, REF);
  assert.equal(m.card.description, 'edited in the store');
  assert.equal(row(store).card_checked, cardMark(edited));
  store.close();
});

test('an unmarked card (stored before marks, or under other rules) is validated with the schema and then marked', async () => {
  const store = installed('unmarked');
  const { card_json: text } = row(store);
  const card = JSON.parse(text) as { inputs: Record<string, unknown>[] };
  // invalid and unmarked: refused as getModel refuses it
  setRow(store, JSON.stringify({ ...card, inputs: [] }), null);
  await assert.rejects(getModelForScoring(store, REF), /stored card of seattle-weather@1 is invalid/);
  // another rules id: not trusted either
  const bad = JSON.stringify({ ...card, task: 'clustering' });
  setRow(store, bad, `0000000000000000:${createHash('sha256').update(bad).digest('hex')}`);
  await assert.rejects(getModelForScoring(store, REF), /stored card of seattle-weather@1 is invalid/);
  // valid, unmarked: validated, then marked
  setRow(store, text, null);
  sameCard((await getModelForScoring(store, REF)).card, getModel(store, REF).card);
  assert.equal(row(store).card_checked, cardMark(text));
  // a card the schema would change (an older install without the defaults filled in) is never
  // marked: each run gets the schema's output, not the stored text
  const older = JSON.stringify({ ...card, inputs: card.inputs.map(({ nullable: _, ...f }) => f) });
  setRow(store, older, null);
  const m = await getModelForScoring(store, REF);
  assert.ok(m.card.inputs.every((f) => f.nullable === false));
  sameCard(m.card, getModel(store, REF).card);
  assert.equal(row(store).card_checked, null);
  // unknown references fail with getModel's messages
  await assert.rejects(getModelForScoring(store, 'seattle-weather@7'), /seattle-weather@7 is not installed \(installed versions: 1\)/);
  await assert.rejects(getModelForScoring(store, 'nope'), /no model "nope" is installed/);
  store.close();
});

test('`outpost score` of a marked card loads no zod; of an unmarked one it validates with it', async () => {
  const home = path.join(root, 'cli');
  installed('cli').close();
  const input = path.join(home, 'in.csv');
  fs.copyFileSync(path.join(REPO, 'models', 'demo', 'weather-2015.csv'), input);
  // records every module URL resolved, in this process and its worker threads
  const hook = path.join(home, 'hook.mjs');
  const seen = path.join(home, 'seen.txt');
  fs.writeFileSync(hook, `import module from 'node:module'; import fs from 'node:fs';
module.registerHooks({ resolve(s, c, next) { const r = next(s, c); fs.appendFileSync(${JSON.stringify(seen)}, r.url + '\\n'); return r; } });`);
  const score = async () => {
    fs.rmSync(seen, { force: true });
    const r = await runCli(['score', input, '--model', 'seattle-weather', '--out', path.join(home, 'out.csv'), '--overwrite', '--ep', 'cpu'], { home, env: { NODE_OPTIONS: `--import ${hook}` } });
    assert.equal(r.code, 0, r.stderr);
    const urls = fs.readFileSync(seen, 'utf8');
    assert.match(urls, /score-file\.ts/); // the hook saw the scoring code load
    return /\/node_modules\/zod\//.test(urls);
  };
  assert.equal(await score(), false, 'a marked card: no zod');
  const s = openStore(home);
  s.db.prepare('UPDATE models SET card_checked = NULL').run();
  s.close();
  assert.equal(await score(), true, 'an unmarked card: validated with zod');
  assert.equal(await score(), false, 'marked by that run');
});
