// The desktop app's log: what the core (utility process) prints and what the main process reports,
// in <data folder>/logs/app.log (owner-only, like the rest of the data folder), besides the
// terminal when there is one. A packaged app started from a desktop menu has no terminal, so
// without this file its warnings and crashes would go nowhere. One generation is kept: at start, a
// log over `maxBytes` becomes app.log.1 (replacing the previous one).
import fs from 'node:fs';
import path from 'node:path';

export const APP_LOG_MAX_BYTES = 5 * 2 ** 20;

export interface AppLog { file: string; write(chunk: string | Buffer): void; line(text: string): void; close(): void }

export function openAppLog(home: string, maxBytes = APP_LOG_MAX_BYTES): AppLog {
  const dir = path.join(home, 'logs');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'app.log');
  const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  if (size > maxBytes) fs.renameSync(file, `${file}.1`);
  const fd = fs.openSync(file, 'a', 0o600);
  fs.fchmodSync(fd, 0o600);
  let open = true;
  const write = (chunk: string | Buffer): void => {
    if (!open) return;
    try {
      if (typeof chunk === 'string') fs.writeSync(fd, chunk);
      else fs.writeSync(fd, chunk);
    } catch {
      // a full disk must not take the app down with it
    }
  };
  return {
    file,
    write,
    line: (text) => write(`${new Date().toISOString()} ${text}\n`),
    close: () => { if (open) { open = false; fs.closeSync(fd); } },
  };
}
