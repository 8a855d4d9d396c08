// Browser end-to-end plumbing: Debian's Chromium through playwright-core (or a printed reason to
// skip), `outpost serve` run in-process through its command module, and screenshots as artifacts.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { CommandContext } from '../../src/cli/command.ts';
import { serveCommand } from '../../src/cli/commands/serve.ts';

export const CHROMIUM = process.env.OUTPOST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-artifacts/screenshots');

/** Chromium, or why it cannot run here (the caller skips with that reason). */
export async function launchChromium(): Promise<{ browser: Browser } | { skip: string }> {
  if (!fs.existsSync(CHROMIUM)) return { skip: `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set OUTPOST_CHROMIUM)` };
  const { chromium } = await import('playwright-core');
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    return { browser };
  } catch (e) {
    return { skip: `Chromium at ${CHROMIUM} did not start: ${(e as Error).message.split('\n')[0]}` };
  }
}

export interface Served { url: string; port: number; lines: string[]; stop(): Promise<number> }

/** Run `outpost serve --port 0` (plus `values`, e.g. `{ api: true }`) in this process and wait for its "listening" event. */
export async function serveInProcess(home: string, values: Record<string, string | boolean> = {}): Promise<Served> {
  const ac = new AbortController();
  const lines: string[] = [];
  let listening: (e: Record<string, unknown>) => void;
  const ready = new Promise<Record<string, unknown>>((r) => { listening = r; });
  const ctx: CommandContext = {
    home, json: false, interactive: false, signal: ac.signal, env: process.env, cwd: process.cwd(),
    out: { text: (l) => lines.push(l), json: () => {}, event: (e) => { if (e.event === 'listening') listening(e); }, warn: (l) => lines.push(l) },
  };
  const run = serveCommand.run(ctx, { values: { port: '0', ...values }, positionals: [] });
  run.catch(() => {});
  const e = await Promise.race([ready, run.then(() => { throw new Error(`serve exited early: ${lines.join('\n')}`); })]);
  return { url: String(e.url), port: Number(e.port), lines, stop: () => { ac.abort(); return run; } };
}

export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Run `outpost hub serve --dir D --port 0` in this process (the console included) and wait until it listens. */
export async function hubServeInProcess(dir: string, extra: Record<string, string> = {}): Promise<Served> {
  const { hubServeCommand } = await import('../../src/cli/commands/hub.ts');
  const ac = new AbortController();
  const lines: string[] = [];
  let listening: (e: Record<string, unknown>) => void;
  const ready = new Promise<Record<string, unknown>>((r) => { listening = r; });
  const ctx: CommandContext = {
    home: dir, json: false, interactive: false, signal: ac.signal, env: process.env, cwd: process.cwd(),
    out: { text: (l) => lines.push(l), json: () => {}, event: (e) => { if (e.event === 'listening') listening(e); }, warn: (l) => lines.push(l) },
  };
  const run = hubServeCommand.run(ctx, { values: { dir, port: '0', ...extra }, positionals: [] });
  run.catch(() => {});
  const e = await Promise.race([ready, run.then(() => { throw new Error(`hub serve exited early: ${lines.join('\n')}`); })]);
  const url = String(e.url);
  return { url, port: Number(new URL(url).port), lines, stop: () => { ac.abort(); return run; } };
}

let sightings = 0;

/**
 * What the page shows at the first instant an element matching `selector` is in the DOM: `probe`
 * (a JavaScript expression, evaluated in the page) is read by a MutationObserver, i.e. right after
 * the render that inserted the element and before any later one (an effect, an answer still on its
 * way). A test that reads the page after `waitFor` may land on exactly that frame, and so may a
 * user's click; this reads it on purpose, so a form shown before its data is complete fails every
 * time rather than on a fast machine now and then. Arm it before the action that shows the element
 * (it refuses if the element is already there); await the returned function for the reading.
 */
export async function atFirstSight(page: Page, selector: string, probe: string): Promise<() => Promise<unknown>> {
  const key = JSON.stringify(`__outpostFirstSight${++sightings}`);
  const sel = JSON.stringify(selector);
  await page.evaluate(`(() => {
    if (document.querySelector(${sel})) throw new Error('atFirstSight: ' + ${sel} + ' is already on the page');
    window[${key}] = new Promise((resolve) => {
      const o = new MutationObserver(() => { if (document.querySelector(${sel})) { o.disconnect(); resolve(${probe}); } });
      o.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    });
  })()`);
  return () => page.evaluate(`window[${key}]`);
}

/**
 * Go to a screen of the workstation app by its hash route ("models/churn") and wait until the app
 * renders that route. A hash-only goto keeps the page: until the app has handled the hashchange the
 * previous screen (its heading, its test ids, its state) is still there, and a second goto in that
 * moment can fold both changes into one render that never left the old screen.
 */
export async function openRoute(page: Page, origin: string, route: string): Promise<void> {
  await page.goto(`${origin}/#/${route}`);
  await page.locator(`main[data-route=${JSON.stringify(route)}]`).waitFor();
}

/**
 * One Settings section (`id`: its anchor, e.g. set-gpu) of the page `pageOf()` returns: its locator, opening Settings
 * afresh until `ready` (a test id) shows, and an element shot of the section alone (a full-page shot
 * repeats the sticky header mid-page) to SCREENSHOTS/<name>.png.
 */
export function settingsSection(pageOf: () => Page, port: () => number, id: string, ready: string) {
  const section = () => pageOf().locator('section', { has: pageOf().locator(`#${id}`) });
  return {
    section,
    async open(): Promise<void> {
      const page = pageOf();
      await page.goto(`http://127.0.0.1:${port()}/#/settings`);
      await page.reload(); // a fresh view (a hash-only goto keeps the page)
      await page.getByTestId(ready).waitFor();
    },
    async shot(name: string): Promise<void> {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      await section().screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
    },
  };
}
