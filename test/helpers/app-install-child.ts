// Child process for test/app-install.test.ts: applies the staged update as the app does at quit,
// and SIGKILLs itself at the named step (`copy` dies once 2 MiB of the new AppImage are written) —
// a real kill mid-way, at a point the test chooses.
import { applyPending, type ApplyStep } from '../../src/registry/node/app-install.ts';

const [home, appImage, dieAt] = process.argv.slice(2);
await applyPending({
  home, currentVersion: '1.0.0', env: { APPIMAGE: appImage },
  onStep(step: ApplyStep, detail) {
    if (step !== dieAt) return;
    if (step === 'copy' && (detail?.bytes ?? 0) < 2 * 1024 * 1024) return;
    process.kill(process.pid, 'SIGKILL');
  },
});
console.log('finished without being killed');
