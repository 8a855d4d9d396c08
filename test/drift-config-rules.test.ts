// A card's drift settings are checked by plain rules (src/drift/common/config.ts: no zod on the
// scoring start-up path). They must say exactly what the zod schema they replaced said, on every
// value a card can hold (JSON): the same verdict, the same problems (path, message, order) and, when
// valid, the same settings object (keys in the same order).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDriftConfig } from '../src/drift/common/config.ts';
import { parseDriftConfigZod } from './helpers/drift-config-zod.ts';

const same = (raw: unknown, label = JSON.stringify(raw)): boolean => {
  const plain = parseDriftConfig(raw);
  const zod = parseDriftConfigZod(raw);
  assert.deepStrictEqual(plain, zod, `drift = ${label}`);
  assert.equal(JSON.stringify(plain), JSON.stringify(zod), `drift = ${label}: key order`);
  return zod.ok;
};

const numbers = [0, -0, 1, -1, 0.5, 1.5, 2, 30, 1e-9, 2 ** 53, 2 ** 60, -(2 ** 60), 1e308];
const scalars: unknown[] = [null, true, false, '', 'ks', '0.1', [], [1], ...numbers];
const rules: unknown[] = [
  {}, { method: 'ks' }, { method: 'psi', threshold: 0.2 }, { method: 'magic' }, { method: 5 }, { threshold: 0 }, { threshold: -1, method: 'x' },
  { enabled: false }, { enabled: 'no' }, { method: 'z', threshold: 0.05, enabled: true }, { extra: 1 }, { extra: 1, threshold: 0 }, { extra: 1, other: 2 }, null, [], 'ks',
];
const counts: unknown[] = [...numbers, '5', null, {}, { test: 1 }, { test: 1.5 }, { test: -1 }, { psi: 300, distance: 500, test: 30 }, { test: -1, foo: 2 }, { foo: 1 }, { test: 2 ** 60 }, [30]];
const psis: unknown[] = [{ warn: 0.1, alert: 0.25 }, { warn: 0.3, alert: 0.2 }, { warn: 0.1 }, { alert: 0.1 }, { warn: 0, alert: -1 }, { warn: 0.3, alert: 0.2, x: 1 }, { warn: 'a', alert: 0.2 }, { warn: 0.2, alert: 0.2 }, null, [], {}];
const fields: Record<string, unknown[]> = {
  method: ['auto', 'ks', 'wasserstein', 'chisquare', 'z', 'jensenshannon', 'psi', 'KS', ''],
  threshold: [...numbers],
  numeric: rules,
  categorical: rules,
  features: [{}, { a: {} }, { a: { method: 'ks' }, b: { threshold: -1 } }, { b: null, a: 5 }, { '1': {}, a: {}, '0': { method: 'q' } }, JSON.parse('{"__proto__": {"method": "ks"}, "x": {}}'), JSON.parse('{"__proto__": 5}'), ...rules.filter((r) => typeof r !== 'object' || r === null || Array.isArray(r))],
  datasetShare: [...numbers],
  minCurrent: counts,
  psi: psis,
};

test('the plain drift-settings rules say what the zod schema said, field by field', () => {
  let checked = 0;
  for (const raw of [undefined, {}, ...scalars]) { same(raw); checked++; }
  for (const [key, values] of Object.entries(fields)) {
    for (const value of [...values, ...scalars]) {
      same({ [key]: value });
      same({ [key]: value, unknownKey: 1 });
      checked += 2;
    }
  }
  same(JSON.parse('{"__proto__": {"method": "ks"}}'), 'an own __proto__ key');
  assert.ok(checked > 500, `${checked} values`);
});

test('the plain drift-settings rules say what the zod schema said on random combinations', () => {
  // a fixed pseudo-random sequence (mulberry32), so a failure names a value that reproduces
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const keys = [...Object.keys(fields), 'bogus'];
  let valid = 0;
  for (let i = 0; i < 3000; i++) {
    const raw: Record<string, unknown> = {};
    const n = 1 + Math.floor(random() * 4);
    for (let k = 0; k < n; k++) {
      const key = pick(keys);
      // mostly values of the field's own kind, some of anything
      raw[key] = key === 'bogus' || random() < 0.15 ? pick(scalars) : pick(fields[key]);
    }
    if (same(raw)) valid++;
  }
  assert.ok(valid > 100 && valid < 2900, `${valid} of 3000 valid: the corpus tests both verdicts`);
});

test('a valid setting comes back as the same values with the keys in the rules\' order', () => {
  const r = parseDriftConfig({ features: { b: { threshold: 0.2, method: 'psi' }, a: {} }, psi: { alert: 0.3, warn: 0.1 }, method: 'ks' });
  assert.ok(r.ok);
  assert.equal(JSON.stringify(r.config), '{"method":"ks","features":{"b":{"method":"psi","threshold":0.2},"a":{}},"psi":{"warn":0.1,"alert":0.3}}');
});
