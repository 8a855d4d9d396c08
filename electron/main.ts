// Electron main process: one hardened window showing the built renderer from app://outpost, the
// core in a utility process, and the IPC bridge between them. Nothing remote is ever loaded.
// The data folder is `--home DIR`, else OUTPOST_HOME, else the OS's app-data folder (as for the
// CLI); one instance per data folder; DevTools only when running unpackaged (npm start).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, protocol, session, shell, utilityProcess } from 'electron';
import { IPC } from '../src/api/common/contract.ts';
import { coreClient } from './core-channel.ts';
import { registerIpc } from './ipc.ts';
import { openAppLog, type AppLog } from './app-log.ts';
import { smokeHost } from './smoke-host.ts';
import { updateOnQuit } from './update-on-quit.ts';
import { APP_CSP, APP_ENTRY, APP_SCHEME, homeFromArgv, mimeOf, navigationAllowed, profileDirFor, resolveAppFile } from './policy.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(here, '..', 'renderer', 'dist');

// Must happen before `ready`: app:// behaves like https (secure context, standard URL parsing).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();

let home: string;
try {
  home = homeFromArgv(process.argv.slice(1), process.env);
} catch (e) {
  console.error(`outpost: ${(e as Error).message}`);
  process.exit(2);
}
// Chromium's profile per data folder, so the single-instance lock below is per data folder too.
app.setPath('userData', profileDirFor(app.getPath('appData'), home));
const primary = app.requestSingleInstanceLock();
if (!primary) {
  // Another window already has this data folder open: it comes to the front (second-instance).
  app.quit();
}
app.on('second-instance', () => {
  const [win] = BrowserWindow.getAllWindows();
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.focus();
});

function startCore(log: AppLog) {
  const child = utilityProcess.fork(fileURLToPath(new URL('./core-host.ts', import.meta.url)), [], {
    serviceName: 'Outpost core', stdio: 'pipe', env: { ...process.env, OUTPOST_HOME: home },
  });
  // The core's output: to <data folder>/logs/app.log, and to the terminal when there is one.
  const tee = !app.isPackaged || Boolean(process.stdout.isTTY);
  child.stdout?.on('data', (d: Buffer) => { if (tee) process.stdout.write(d); log.write(d); });
  child.stderr?.on('data', (d: Buffer) => { if (tee) process.stderr.write(d); log.write(d); });
  const listeners: ((m: unknown) => void)[] = [];
  // A pull's smoke inference: a utility process of its own (see smoke-host.ts), answered to the core.
  const smoke = smokeHost(
    (script, args, env) => utilityProcess.fork(script, args, { serviceName: 'Outpost smoke test', stdio: 'pipe', env }),
    fileURLToPath(new URL('../src/registry/node/smoke-child.ts', import.meta.url)),
    (m) => child.postMessage(m),
  );
  child.on('message', (m) => {
    if (smoke(m)) return;
    for (const l of listeners) l(m);
  });
  const core = coreClient({ post: (m) => child.postMessage(m), onMessage: (l) => listeners.push(l) });
  child.on('exit', (code) => {
    log.line(`the Outpost core stopped (exit code ${code})`);
    core.failAll(`the Outpost core stopped (exit code ${code}); restart the app`);
  });
  return { core, child };
}

function harden(): void {
  const s = session.defaultSession;
  s.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
  s.setDevicePermissionHandler(() => false);
  s.on('will-download', (e) => e.preventDefault());
  app.on('web-contents-created', (_e, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (e, url) => { if (!navigationAllowed(url)) e.preventDefault(); });
    contents.on('will-redirect', (e, url) => { if (!navigationAllowed(url)) e.preventDefault(); });
    contents.on('will-attach-webview', (e) => e.preventDefault());
  });
  protocol.handle(APP_SCHEME, async (req) => {
    const file = resolveAppFile(DIST, req.url);
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) return new Response('not found', { status: 404 });
    return new Response(await fs.promises.readFile(file), {
      // COOP + COEP: cross-origin isolated, so the what-if explorer's onnxruntime-web may use threads
      headers: { 'Content-Type': mimeOf(file), 'Content-Security-Policy': APP_CSP, 'X-Content-Type-Options': 'nosniff', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    });
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280, height: 860, minWidth: 640, minHeight: 480, show: false, title: 'Outpost',
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      sandbox: true, contextIsolation: true, nodeIntegration: false, nodeIntegrationInWorker: false, webSecurity: true,
      allowRunningInsecureContent: false, experimentalFeatures: false, spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_ENTRY);
  return win;
}

if (primary) app.whenReady().then(() => {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) {
    console.error(`outpost: the UI is not built (${DIST}); run \`npm run build:renderer\` first`);
    app.exit(1);
    return;
  }
  harden();
  const log = openAppLog(home);
  log.line(`Outpost ${app.getVersion()} starting (Electron ${process.versions.electron}, data folder ${home}${app.isPackaged ? '' : ', unpackaged'})`);
  const { core, child } = startCore(log);
  registerIpc(ipcMain, core, { showItem: (file) => shell.showItemInFolder(file) });
  core.onEvent((e) => { for (const w of BrowserWindow.getAllWindows()) w.webContents.send(IPC.event, e); });
  createWindow();
  app.on('activate', () => { if (BrowserWindow.getAllWindows().length === 0) createWindow(); });
  // Settings → Updates' "install on restart": applied here, after the core stops (update-on-quit.ts)
  app.on('will-quit', updateOnQuit({ home, version: app.getVersion(), log, stopCore: () => child.kill(), exit: (code) => app.exit(code) }).onWillQuit);
});

app.on('window-all-closed', () => { if (process.platform !== 'darwin') app.quit(); });
