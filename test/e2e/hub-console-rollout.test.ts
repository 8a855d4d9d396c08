// Rollouts from the hub console, end to end: `outpost hub serve` (in-process, loopback) with a
// signed, published `churn` and three workstations enrolled in two groups; Chromium signs in and
// starts, halts and rolls back rollouts on the Rollouts screen. Each step is checked against
// `outpost hub rollout status|list --json` (the same functions behind the API) and against the
// workstations themselves after real syncs (verified pulls). The form refuses what the CLI refuses
// with the CLI's message; halt and rollback ask first; a refusal by the hub (a rollout superseded
// meanwhile) is shown. Cookie-borne writes from another origin, without an Origin, with bad bodies
// or hostile ids are refused and create nothing. Screenshots: hub-console-rollout-*.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { publishPackage, yankVersion } from '../../src/hub/node/publish-client.ts';
import { listRollouts } from '../../src/hub/node/rollouts.ts';
import { listModels } from '../../src/store/node/models.ts';
import { runSync } from '../../src/sync/node/sync.ts';
import { atFirstSight, hubServeInProcess, launchChromium, shot, type Served } from '../helpers/app-browser.ts';
import { jsonLines, runMain } from '../helpers/cli.ts';
import { makePackage, startTestHub, tmpDir, type TestHub } from '../helpers/hub-fixtures.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { enrollWorkstation, type Workstation } from '../helpers/sync-fleet.ts';

const launched = await launchChromium();
if ('skip' in launched) console.log(`# skipping the hub console rollout tests: ${launched.skip}`);

interface StatusJson { rollout: { id: string; state: string; targetVersion: number | null; counts: Record<string, number> }; devices: { device: string; state: string }[] }

describe('hub console: rollouts (Chromium, real hub and workstations on loopback)', { skip: 'skip' in launched ? launched.skip : false }, () => {
  let t: TestHub;
  let served: Served;
  let dir: string;
  const ws: Record<string, Workstation> = {};
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const base = () => `http://127.0.0.1:${served.port}`;
  const churn = (w: Workstation) => listModels(w.store).filter((m) => m.name === 'churn').map((m) => `${m.version}${m.active ? '*' : ''}`).join(',');
  const sync = async (w: Workstation) => { const s = await runSync(w.store, { refreshMetadata: false }); assert.equal(s.rollouts.checked, true, s.rollouts.error); return s; };
  const publish = (version: number) => {
    const p = t.publishers['churn-team'];
    return publishPackage({ packageDir: makePackage(dir, 'churn', version, { weights: [version, -version] }), hubUrl: served.url, keys: [p.key], token: p.token, alias: 'production', checks: 'none' });
  };
  const cli = async (...argv: string[]) => {
    const r = await runMain(['--json', 'hub', 'rollout', ...argv, '--dir', t.dir]);
    assert.equal(r.code, 0, r.err);
    return jsonLines(r.out).at(-1) as unknown as StatusJson & { rollouts: StatusJson['rollout'][] };
  };
  const status = (id: string) => cli('status', id);
  const row = (id: string) => page.getByTestId(`rollout-${id}`);
  const refresh = async () => {
    await page.getByTestId('rollouts-refresh').click();
    await page.getByTestId('rollouts-refresh').filter({ hasText: 'Refresh' }).waitFor();
  };
  /**
   * The console's numbers for a rollout equal `hub rollout status --json` (the list may still be
   * loading the answer to the last action: it is given up to 15 s to show them).
   */
  const agrees = async (id: string) => {
    const s = await status(id);
    const want = [s.rollout.state, ...(['running', 'failed', 'available', 'pending', 'stopped'] as const).map((k) => String(s.rollout.counts[k]))];
    const r = row(id);
    let shown: (string | null)[] = [];
    for (let i = 0; i < 75; i++) {
      shown = [await r.getAttribute('data-state'), ...await Promise.all((['running', 'failed', 'available', 'pending', 'stopped'] as const).map((k) => r.getByTestId(k).innerText()))];
      if (JSON.stringify(shown) === JSON.stringify(want)) return s;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.deepEqual(shown, want, `${id}: state, running, failed, available, pending, stopped`);
    return s;
  };
  const cookie = async () => (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');

  before(async () => {
    t = await startTestHub({ publishers: [{ name: 'churn-team', glob: 'churn*' }] });
    await t.stop(); // `outpost hub serve` serves the same hub folder, console included
    served = await hubServeInProcess(t.dir);
    dir = tmpDir('outpost-console-rollout-');
    await publish(1);
    for (const [name, group] of [['ws-a', 'line-1'], ['ws-b', 'line-1'], ['ws-c', 'line-2']] as const) ws[name] = await enrollWorkstation(t.hub, served.url, t.trustRoot, dir, name, group);
    for (const w of Object.values(ws)) await sync(w); // heartbeats: the hub knows the groups
    if ('skip' in launched) return;
    browser = launched.browser;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${base()}/#/rollouts`);
    await page.getByTestId('admin-token').fill(t.adminToken);
    await page.getByTestId('sign-in-submit').click();
    await page.getByRole('heading', { name: 'Rollouts' }).waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    for (const w of Object.values(ws)) w.store.close();
    await served?.stop();
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the form refuses what `hub rollout` refuses, with the same message, and starts nothing', async () => {
    await page.getByTestId('rollouts-none').waitFor();
    await page.getByTestId('rollout-form').waitFor(); // the aliases are another answer than the list
    assert.deepEqual(await page.getByTestId('rollout-ref').locator('option').allInnerTexts(), ['churn:production (→ v1)']);
    for (const [group, percent, argv] of [
      ['line-1', 'abc', ['--group', 'line-1', '--percent', 'abc']], // checked in the browser by the CLI's own function
      ['line-1', '150', ['--group', 'line-1', '--percent', '150']], // checked by the hub
      ['line-1', '12.345', ['--group', 'line-1', '--percent', '12.345']],
      ['bad group!', '', ['--group', 'bad group!']],
      ['line-9', '', ['--group', 'line-9']], // no workstation in it, no enrollment code names it: the hub refuses, naming line-1 and line-2
      ['', '', []],
    ] as const) {
      await page.getByTestId('rollout-group').fill(group);
      await page.getByTestId('rollout-percent').fill(percent);
      const r = await runMain(['hub', 'rollout', 'churn:production', ...argv, '--dir', t.dir]);
      assert.equal(r.code, 2, `the CLI refuses ${argv.join(' ')} as bad usage`);
      const message = r.err.trim().replace(/^outpost hub rollout: /, '');
      await page.getByTestId('rollout-start').click();
      const alert = page.getByRole('alert').filter({ hasText: message });
      await alert.waitFor(); // the console shows the CLI's message
      assert.equal((await alert.locator('p').innerText()).trim(), message);
      assert.match(await alert.innerText(), /^Not started/);
      if (percent === '150') await shot(page, 'hub-console-rollout-01-refused');
    }
    assert.deepEqual(await listRollouts(t.hub), [], 'nothing was started');
  });

  let first: string;
  test('start a rollout from the console: `hub rollout status` agrees, the group\'s workstations follow, the other group does not', async () => {
    await page.getByTestId('rollout-group').fill('line-1');
    await page.getByTestId('rollout-percent').fill('');
    await page.getByTestId('rollout-start').click();
    await page.getByTestId('rollout-ok').waitFor();
    const [r] = await listRollouts(t.hub);
    first = r.id;
    assert.match(await page.getByTestId('rollout-ok').innerText(), new RegExp(`Started ${first}: churn:production → v1 to group line-1, 2 devices`));
    assert.deepEqual([r.model, r.alias, r.group, r.percent, r.state, r.targetVersion], ['churn', 'production', 'line-1', 100, 'active', 1]);
    await row(first).waitFor();
    const s = await agrees(first);
    assert.deepEqual(s.devices.map((d) => [d.device, d.state]), [['ws-a', 'pending'], ['ws-b', 'pending']]);
    for (const w of Object.values(ws)) await sync(w);
    assert.equal(churn(ws['ws-a']), '1*');
    assert.equal(churn(ws['ws-b']), '1*');
    assert.equal(churn(ws['ws-c']), '', 'the other group got nothing');
    // no click: while a rollout is active the list refreshes itself (every 10 s)
    assert.match(await page.getByTestId('rollouts-auto').innerText(), /updates every 10 s/);
    await row(first).getByTestId('running').filter({ hasText: '2' }).waitFor();
    await page.getByTestId('rollout-device').and(page.locator('[data-state="running"]')).nth(1).waitFor(); // the open status too
    const after = await agrees(first);
    assert.deepEqual(after.rollout.counts, { groupDevices: 2, devices: 2, running: 2, failed: 0, available: 0, pending: 0, stopped: 0, unaffected: 0 });
    await page.getByTestId('rollout-devices').waitFor(); // opened on start
    assert.deepEqual(await page.getByTestId('rollout-device').evaluateAll((rows) => rows.map((x) => [x.getAttribute('data-device'), x.getAttribute('data-state')])), after.devices.map((d) => [d.device, d.state]));
    await shot(page, 'hub-console-rollout-02-started');
  });

  let second: string;
  test('halt asks first: "keep it" changes nothing; confirmed, a workstation that had not installed it does not', async () => {
    await publish(2); // the alias moves to v2
    // The form is offered only once the rollouts it may replace are known: with the list held back
    // and the aliases answered, it is not on the page (it would start without "Replaces …").
    await page.getByRole('link', { name: 'Fleet', exact: true }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    const list = /\/api\/v1\/rollouts$/;
    const held: Route[] = [];
    await page.route(list, (r) => { if (held.length === 0) held.push(r); else void r.continue(); });
    const firstForm = await atFirstSight(page, '[data-testid=rollout-form]', `document.querySelector('[data-testid=rollouts]') !== null`);
    const aliases = page.waitForEvent('requestfinished', (r) => r.url().endsWith('/api/v1/models'));
    await page.getByRole('link', { name: 'Rollouts' }).click();
    await aliases;
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))'); // the aliases' answer rendered
    while (held.length < 1) await page.waitForTimeout(20);
    assert.equal(await page.getByTestId('rollout-form').count(), 0, 'no start form while the rollouts it may replace are unknown');
    assert.equal(await page.getByTestId('rollout-form-loading').isVisible(), true);
    await held[0].continue();
    await page.unroute(list);
    assert.equal(await firstForm(), true, 'the start form showed before the list of rollouts it may replace');
    await page.getByTestId('rollout-ref').locator('option', { hasText: '→ v2' }).waitFor({ state: 'attached' });
    await page.getByTestId('rollout-group').fill('line-1');
    assert.match(await page.getByTestId('rollout-replaces').innerText(), new RegExp(`Replaces ${first} \\(active\\)`));
    await page.getByTestId('rollout-start').click();
    await page.getByTestId('rollout-ok').waitFor();
    second = (await listRollouts(t.hub))[0].id;
    assert.notEqual(second, first);
    await row(second).waitFor();
    assert.equal(await row(first).getAttribute('data-state'), 'superseded');
    assert.equal(await row(first).getByRole('button', { name: /Halt|Roll back/ }).count(), 0, 'a superseded rollout has no actions');
    await agrees(first);
    await sync(ws['ws-a']);
    assert.equal(churn(ws['ws-a']), '1,2*');

    await row(second).getByTestId('halt').click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    // opening the dialog refreshes the numbers: ws-a installed it meanwhile
    await dialog.filter({ hasText: '1 of 2 devices run it, 1 pending, 0 failed' }).waitFor();
    assert.match(await dialog.innerText(), new RegExp(`Halt rollout ${second}\\?[\\s\\S]*churn:production to group line-1: 1 of 2 devices run it`));
    await shot(page, 'hub-console-rollout-03-halt-confirm');
    await dialog.getByRole('button', { name: 'Keep it going' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await status(second)).rollout.state, 'active', 'cancelled: nothing changed');
    // focus is back on the button that opened the dialog (a selector, not waitForFunction: the console's
    // CSP has no 'unsafe-eval', and Playwright evaluates a predicate that is not yet true by eval)
    await page.locator('[data-testid="halt"]:focus').waitFor({ timeout: 5000 });

    await refresh();
    await row(second).getByTestId('halt').click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Halt rollout' }).click();
    await page.getByTestId('rollout-ok').filter({ hasText: `Halted ${second}` }).waitFor();
    assert.equal(await page.evaluate('document.activeElement?.getAttribute("data-testid")'), 'rollout-notice', 'focus moves from the closed dialog to the result');
    await row(second).and(page.locator('[data-state="halted"]')).waitFor();
    const s = await agrees(second);
    assert.equal(s.rollout.state, 'halted');
    const listed = await cli('list');
    assert.equal(listed.rollouts.find((x) => x.id === second)?.state, 'halted', '`hub rollout list` agrees');
    await sync(ws['ws-b']);
    assert.equal(churn(ws['ws-b']), '1*', 'halted: ws-b stays on v1');
    await refresh();
    await agrees(second);
    await shot(page, 'hub-console-rollout-04-halted');
  });

  test('roll back asks first and can name a version; the workstation that installed it returns to v1', async () => {
    await row(second).getByTestId('rollback').click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    await dialog.getByTestId('rollout-to').waitFor(); // once the published versions are read again
    assert.deepEqual(await dialog.getByTestId('rollout-to').locator('option').allInnerTexts(), ['the version each device ran before', 'churn@2', 'churn@1']);
    await dialog.getByTestId('rollout-to').selectOption('1');
    await shot(page, 'hub-console-rollout-05-rollback-confirm');
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await page.getByTestId('rollout-ok').filter({ hasText: `Rolled back ${second}: back to churn@1` }).waitFor();
    const s = await agrees(second);
    assert.equal(s.rollout.state, 'rolled-back');
    const [r] = await listRollouts(t.hub);
    assert.equal(r.rollbackTo, 1);
    await sync(ws['ws-a']);
    assert.equal(churn(ws['ws-a']), '1*,2', 'ws-a back on v1');
    await refresh();
    await agrees(second);
  });

  test('a refusal by the hub is shown: rolling back a rollout the CLI superseded meanwhile', async () => {
    // a rolled-back rollout offers Roll back but no Halt (the hub refuses to halt a rollback)
    assert.equal(await row(second).getByTestId('halt').count(), 0);
    // the console still lists `second` as rolled back; the CLI starts a newer one
    await cli('churn:production', '--group', 'line-1', '--percent', '50');
    await row(second).getByTestId('rollback').click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByTestId('rollout-to').waitFor();
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), new RegExp(`Not rolled back: ${second}[\\s\\S]*rollout ${second} was superseded by a newer rollout of churn to group line-1; roll back that one`));
    await shot(page, 'hub-console-rollout-06-refused-superseded');
    assert.equal((await status(second)).rollout.state, 'superseded');
    // the dialog closed and the list shows the state now: superseded, no actions; the newer rollout listed
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    const [newest] = await listRollouts(t.hub);
    await row(newest.id).waitFor();
    await row(second).and(page.locator('[data-state="superseded"]')).waitFor();
    assert.equal(await row(second).getByRole('button', { name: /Halt|Roll back/ }).count(), 0);
    // a 1280×800 window shows the whole table with a partial rollout's three actions (Halt, Roll back,
    // Widen): nothing scrolls sideways (the actions were cut off at the right, behind a scrollbar)
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.equal(await row(newest.id).getByRole('button', { name: /^(Halt…|Roll back…|Widen…)$/ }).count(), 3);
    const measure = () => page.getByTestId('rollouts').evaluate((table) => {
      const wrap = table.parentElement!;
      const doc = table.ownerDocument.documentElement;
      return { table: wrap.scrollWidth - wrap.clientWidth, page: doc.scrollWidth - doc.clientWidth };
    });
    let overflow = await measure();
    for (let i = 0; i < 20 && (overflow.table > 0 || overflow.page > 0); i++) { // the resize's layout settles (a scrollbar comes and goes)
      await page.waitForTimeout(100);
      overflow = await measure();
    }
    await row(newest.id).scrollIntoViewIfNeeded();
    await shot(page, 'hub-console-rollout-06c-1280x800');
    assert.ok(overflow.table <= 0 && overflow.page <= 0, `the rollouts table and the page fit the window (overflow: ${JSON.stringify(overflow)})`);
    await page.setViewportSize({ width: 1280, height: 900 });
    // "Widen…" on a partial rollout fills the form with its alias, group and seed
    await row(newest.id).getByTestId('widen').click();
    assert.equal(await page.getByTestId('rollout-group').inputValue(), 'line-1');
    assert.equal(await page.getByTestId('rollout-seed').inputValue(), newest.seed);
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'hub-console-rollout-06b-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('a tampered blob: the workstation refuses at verify, keeps what it ran, and the console shows the stage and the reason', async () => {
    await publish(3); // the alias moves to v3, whose model blob is then modified on the hub
    const v3 = (await t.hub.storage.modelVersions('churn')).find((v) => Number(v.version) === 3)!;
    const blob = t.hub.blobs.path(v3.modelSha256);
    const bad = Buffer.from(fs.readFileSync(blob));
    bad[bad.length - 5] ^= 0xff; // same length, other bytes
    fs.chmodSync(blob, 0o600);
    fs.writeFileSync(blob, bad);
    await page.reload();
    await page.getByTestId('rollout-ref').locator('option', { hasText: '→ v3' }).waitFor({ state: 'attached' });
    await page.getByTestId('rollout-group').fill('line-2');
    await page.getByTestId('rollout-start').click();
    await page.getByTestId('rollout-ok').waitFor();
    const [r] = await listRollouts(t.hub, { group: 'line-2' });
    const s = await sync(ws['ws-c']);
    assert.deepEqual(s.rollouts.handled.map((h) => [h.state, h.stage]), [['failed', 'verify']]);
    assert.equal(churn(ws['ws-c']), '', 'nothing was installed');
    const st = await agrees(r.id);
    assert.deepEqual([st.rollout.counts.failed, st.rollout.counts.running], [1, 0]);
    const [d] = st.devices as (StatusJson['devices'][number] & { stage: string; reason: string })[];
    assert.equal(d.stage, 'verify');
    const shown = page.getByTestId('rollout-device').and(page.locator('[data-device="ws-c"]'));
    await shown.and(page.locator('[data-state="failed"]')).waitFor(); // the open rollout's devices refresh too
    assert.ok((await shown.innerText()).includes(`verify: ${d.reason}`), `the console names the stage and the reason: ${await shown.innerText()}`);
    await shot(page, 'hub-console-rollout-07-refused-at-verify');
  });

  test('a yanked version is shown but cannot be chosen for a rollback; the hub and the CLI refuse it, naming why', async () => {
    await publish(4); // the alias moves on from the tampered v3, which its publisher then yanks
    const p = t.publishers['churn-team'];
    await yankVersion({ hubUrl: served.url, keys: [p.key], token: p.token, name: 'churn', version: 3, reason: 'tampered blob' });
    const [r] = await listRollouts(t.hub, { group: 'line-2' });
    await refresh();
    await row(r.id).getByTestId('rollback').click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByTestId('rollout-to').locator('option', { hasText: 'churn@4' }).waitFor({ state: 'attached' }); // read again when the dialog opens
    const options = dialog.getByTestId('rollout-to').locator('option');
    assert.deepEqual(await options.allInnerTexts(), ['the version each device ran before', 'churn@4', 'churn@3 (yanked)', 'churn@2', 'churn@1']);
    assert.deepEqual(await options.evaluateAll((os) => os.map((o) => (o as unknown as { disabled: boolean }).disabled)), [false, false, true, false, false]);
    await shot(page, 'hub-console-rollout-07b-rollback-yanked');
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await dialog.waitFor({ state: 'detached' });
    const message = `churn@3 is yanked: devices refuse to install it; roll back to another version (\`outpost hub rollout rollback ${r.id} --to V\`) or to each device's previous one (no --to)`;
    const api = await fetch(`${base()}/api/v1/rollouts/${r.id}/rollback`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base(), cookie: await cookie() }, body: '{"to":3}' });
    assert.equal(api.status, 409);
    assert.deepEqual(await api.json(), { ok: false, error: { code: 'conflict', message } });
    const viaCli = await runMain(['hub', 'rollout', 'rollback', r.id, '--to', '3', '--dir', t.dir]);
    assert.equal(viaCli.code, 1);
    assert.ok(viaCli.err.includes(message), viaCli.err);
    assert.equal((await status(r.id)).rollout.state, 'active', 'not rolled back');
  });

  test('hostile writes: another origin, no Origin, bad bodies and ids are refused and start or change nothing', async () => {
    const c = await cookie();
    const before = JSON.stringify(await listRollouts(t.hub));
    const [newest] = await listRollouts(t.hub);
    const host = `127.0.0.1:${served.port}`;
    const post = (target: string, body: string, headers: string) =>
      rawRequest(served.port, `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nCookie: ${c}\r\nContent-Length: ${Buffer.byteLength(body)}${headers}`, body);
    const json = '\r\nContent-Type: application/json';
    const good = JSON.stringify({ ref: 'churn:production', group: 'line-2' });
    for (const [target, body, headers, status, why] of [
      ['/api/v1/rollouts', good, `${json}\r\nOrigin: http://evil.example`, 403, 'another origin'],
      ['/api/v1/rollouts', good, json, 403, 'no Origin'],
      ['/api/v1/rollouts', good, `${json}\r\nOrigin: http://${host}.evil.example`, 403, 'a look-alike origin'],
      [`/api/v1/rollouts/${newest.id}/halt`, '{}', `${json}\r\nOrigin: http://evil.example`, 403, 'halt from another origin'],
      [`/api/v1/rollouts/${newest.id}/rollback`, '{}', `${json}\r\nOrigin: null`, 403, 'rollback from an opaque origin'],
      ['/api/v1/rollouts', 'ref=churn%3Aproduction&group=line-2', `\r\nContent-Type: application/x-www-form-urlencoded\r\nOrigin: ${base()}`, 415, 'a form post'],
      ['/api/v1/rollouts', '{"ref":"churn:production",', `${json}\r\nOrigin: ${base()}`, 400, 'not JSON'],
      ['/api/v1/rollouts', JSON.stringify({ ref: 'churn:production' }), `${json}\r\nOrigin: ${base()}`, 400, 'no group'],
      ['/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-2', admin: true }), `${json}\r\nOrigin: ${base()}`, 400, 'an unknown field'],
      ['/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-2', percnt: 10 }), `${json}\r\nOrigin: ${base()}`, 400, 'a misspelt field (not dropped: that would roll out to 100 %)'],
      [`/api/v1/rollouts/${newest.id}/rollback`, JSON.stringify({ too: 1 }), `${json}\r\nOrigin: ${base()}`, 400, 'a misspelt rollback field'],
      ['/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-2', percent: 0 }), `${json}\r\nOrigin: ${base()}`, 400, 'percent 0'],
      ['/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-2', percent: 'all' }), `${json}\r\nOrigin: ${base()}`, 400, 'percent not a number'],
      ['/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: '../../etc' }), `${json}\r\nOrigin: ${base()}`, 400, 'a path as group'],
      ['/api/v1/rollouts', JSON.stringify({ ref: '../../../etc/passwd:x', group: 'line-2' }), `${json}\r\nOrigin: ${base()}`, 400, 'a path as model'],
      ['/api/v1/rollouts', JSON.stringify({ ref: `churn:${'p'.repeat(300)}`, group: 'line-2' }), `${json}\r\nOrigin: ${base()}`, 400, 'a long ref'],
      ['/api/v1/rollouts', JSON.stringify({ ref: 'churn:staging', group: 'line-2' }), `${json}\r\nOrigin: ${base()}`, 404, 'an alias not published'],
      ['/api/v1/rollouts', JSON.stringify({ ref: 'churn:production', group: 'line-2', pad: 'x'.repeat(20_000) }), `${json}\r\nOrigin: ${base()}`, 413, 'an oversized body'],
      ['/api/v1/rollouts/ro_..%2f..%2fx/halt', '{}', `${json}\r\nOrigin: ${base()}`, 400, 'a traversal id'],
      ['/api/v1/rollouts/%ff/halt', '{}', `${json}\r\nOrigin: ${base()}`, 400, 'a malformed id'],
      ['/api/v1/rollouts/ro_00000000000000000000/halt', '{}', `${json}\r\nOrigin: ${base()}`, 404, 'an unknown rollout'],
      [`/api/v1/rollouts/${newest.id}/rollback`, JSON.stringify({ to: 0 }), `${json}\r\nOrigin: ${base()}`, 400, 'rollback to 0'],
      [`/api/v1/rollouts/${newest.id}/rollback`, JSON.stringify({ to: 99 }), `${json}\r\nOrigin: ${base()}`, 404, 'rollback to an unpublished version'],
    ] as const) {
      const r = await post(target, body, headers);
      assert.equal(r.status, status, `${why}: ${r.body.slice(0, 300)}`);
      assert.match(r.body, /"ok":false|"code":"FST_ERR_BAD_URL"/, why); // a URL that does not decode is refused before routing
      assert.doesNotMatch(r.body, /opadm_|BEGIN PRIVATE KEY/);
    }
    // the hub's messages are the CLI's
    const notPublished = await post('/api/v1/rollouts', JSON.stringify({ ref: 'churn:staging', group: 'line-2' }), `${json}\r\nOrigin: ${base()}`);
    const viaCli = await runMain(['hub', 'rollout', 'churn:staging', '--group', 'line-2', '--dir', t.dir]);
    assert.equal(viaCli.code, 1);
    assert.ok(viaCli.err.includes((JSON.parse(notPublished.body) as { error: { message: string } }).error.message), viaCli.err);
    // without the session, or under a foreign Host, nothing is written either
    const anon = await fetch(`${base()}/api/v1/rollouts`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base() }, body: good });
    assert.equal(anon.status, 401);
    await anon.arrayBuffer();
    const foreign = await rawRequest(served.port, `POST /api/v1/rollouts HTTP/1.1\r\nHost: evil.example:${served.port}\r\nCookie: ${c}\r\nOrigin: http://evil.example:${served.port}${json}\r\nContent-Length: ${good.length}`, good);
    assert.equal(foreign.status, 421);
    assert.equal(JSON.stringify(await listRollouts(t.hub)), before, 'no rollout was started, halted or rolled back');
    // and the console still works
    const ok = await fetch(`${base()}/api/v1/rollouts`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base(), cookie: c }, body: good });
    assert.equal(ok.status, 200, await ok.clone().text());
    await ok.arrayBuffer();
  });

  test('a group no workstation is in: refused with the hub\'s message on the page; with "Start it even if …" ticked it starts, staged', async () => {
    await page.reload(); // a fresh form (the box unticked)
    await page.getByTestId('rollout-form').waitFor();
    const before = JSON.stringify(await listRollouts(t.hub));
    await page.getByTestId('rollout-group').fill('line-9');
    assert.equal(await page.getByTestId('rollout-allow-empty').isChecked(), false);
    await page.getByTestId('rollout-start').click();
    const refused = page.getByRole('alert').filter({ hasText: 'Not started' });
    await refused.waitFor();
    const viaCli = await runMain(['hub', 'rollout', 'churn:production', '--group', 'line-9', '--dir', t.dir]);
    assert.equal(viaCli.code, 2, viaCli.err);
    const message = viaCli.err.trim().replace(/^outpost hub rollout: /, '');
    assert.match(message, /^no workstation is in group "line-9" and no outstanding enrollment code names it, so the rollout would reach no one \(groups: line-1, line-2\)/);
    assert.equal((await refused.locator('p').innerText()).trim(), message, 'the page shows the hub\'s (the CLI\'s) message');
    assert.equal(JSON.stringify(await listRollouts(t.hub)), before, 'nothing was started');
    await page.getByTestId('rollout-allow-empty').check();
    await page.getByTestId('rollout-start').click();
    const ok = page.getByTestId('rollout-ok').filter({ hasText: 'to group line-9' });
    await ok.waitFor();
    const [r] = await listRollouts(t.hub, { group: 'line-9' });
    assert.deepEqual([r.model, r.group, r.state, r.counts.groupDevices, r.counts.devices], ['churn', 'line-9', 'active', 0, 0]);
    assert.match(await ok.innerText(), new RegExp(`^Started ${r.id}: churn:production → v\\d+ to group line-9, 0 devices[\\s\\S]*No workstation is in group "line-9" yet: devices enrolled into it later follow the rollout\\.`));
    await row(r.id).waitFor();
    await shot(page, 'hub-console-rollout-08a-empty-group-started');
  });

  test('text, password and date fields look like the app\'s other fields', async () => {
    const look = (sel: string) => page.locator(sel).first().evaluate((el) => {
      const s = (el.ownerDocument.defaultView as unknown as { getComputedStyle(e: unknown): Record<string, string> }).getComputedStyle(el);
      return [s.borderTopWidth, s.borderTopStyle, s.borderTopLeftRadius, s.paddingLeft, s.minHeight, s.backgroundColor].join(' ');
    });
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByTestId('events-since').waitFor();
    const select = await look('[data-testid="events-kind"]');
    assert.match(select, /^1px solid \d/, `the select's look: ${select}`);
    assert.equal(await look('[data-testid="events-since"]'), select, 'the date filter');
    await shot(page, 'hub-console-rollout-08-events-filters');
    const session = await cookie();
    // a sign-out the hub did not answer leaves the session valid: the page says so and stays signed in
    await page.route('**/api/v1/session', (route) => (route.request().method() === 'DELETE' ? route.abort() : route.continue()));
    await page.getByTestId('sign-out').click();
    await page.getByText('Not signed out: this session is still active').waitFor();
    assert.equal(await page.getByTestId('admin-token').count(), 0, 'no sign-in form after a failed sign-out');
    await page.unroute('**/api/v1/session');
    await page.getByTestId('sign-out').click();
    await page.getByTestId('admin-token').waitFor();
    // signing out ended the session on the hub: a copy of its cookie is refused
    const reused = await fetch(`${base()}/api/v1/devices`, { headers: { cookie: session } });
    assert.equal(reused.status, 401, await reused.clone().text());
    await reused.arrayBuffer();
    assert.equal(await look('[data-testid="admin-token"]'), select, 'the admin token field');
    await shot(page, 'hub-console-rollout-09-sign-in');
  });
});
