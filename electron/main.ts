// Electron main process: one hardened window showing the built renderer from app://outpost, the
// core in a utility process, and the IPC bridge between them. Nothing remote is ever loaded.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, protocol, session, shell, utilityProcess } from 'electron';
import { IPC } from '../src/api/common/contract.ts';
import { coreClient } from './core-channel.ts';
import { registerIpc } from './ipc.ts';
import { APP_CSP, APP_ENTRY, APP_SCHEME, mimeOf, navigationAllowed, resolveAppFile } from './policy.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(here, '..', 'renderer', 'dist');

// Must happen before `ready`: app:// behaves like https (secure context, standard URL parsing).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();

function startCore() {
  const child = utilityProcess.fork(fileURLToPath(new URL('./core-host.ts', import.meta.url)), [], { serviceName: 'Outpost core', stdio: 'inherit' });
  const listeners: ((m: unknown) => void)[] = [];
  child.on('message', (m) => { for (const l of listeners) l(m); });
  const core = coreClient({ post: (m) => child.postMessage(m), onMessage: (l) => listeners.push(l) });
  child.on('exit', (code) => core.failAll(`the Outpost core stopped (exit code ${code}); restart the app`));
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
      headers: { 'Content-Type': mimeOf(file), 'Content-Security-Policy': APP_CSP, 'X-Content-Type-Options': 'nosniff' },
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
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_ENTRY);
  return win;
}

app.whenReady().then(() => {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) {
    console.error(`outpost: the UI is not built (${DIST}); run \`npm run build:renderer\` first`);
    app.exit(1);
    return;
  }
  harden();
  const { core, child } = startCore();
  registerIpc(ipcMain, core, { showItem: (file) => shell.showItemInFolder(file) });
  core.onEvent((e) => { for (const w of BrowserWindow.getAllWindows()) w.webContents.send(IPC.event, e); });
  createWindow();
  app.on('activate', () => { if (BrowserWindow.getAllWindows().length === 0) createWindow(); });
  app.on('will-quit', () => child.kill());
});

app.on('window-all-closed', () => { if (process.platform !== 'darwin') app.quit(); });
