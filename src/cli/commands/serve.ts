// `outpost serve`: the headless host of the app UI, for workstations without a desktop session,
// kiosks and browser tests. Loopback only, token-protected (printed once, like Jupyter).
import { usageError } from '../../common/errors.ts';
import { HOST, startHttp } from '../../api/node/http.ts';
import { ensureRenderer } from '../../api/node/renderer-build.ts';
import { createService } from '../../api/node/service.ts';
import { str, type CommandSpec } from '../command.ts';

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Serve the Outpost app UI to a browser on this machine (127.0.0.1 only, token-protected)',
  usage: 'outpost serve [--port P] [--host 127.0.0.1]',
  help: [
    '--port P     port to listen on (default: a free one)',
    '--host H     only 127.0.0.1 (or localhost) is allowed: the UI is never exposed to the network',
  ],
  options: { port: { type: 'string' }, host: { type: 'string' } },
  async run(ctx, args) {
    const host = str(args, 'host');
    if (host !== undefined && host !== HOST && host !== 'localhost') throw usageError(`--host must be 127.0.0.1: serve binds to loopback only (got "${host}"); reach it remotely through an SSH tunnel`);
    const portText = str(args, 'port');
    const port = portText === undefined ? 0 : Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`--port must be a whole number from 0 to 65535 (got "${portText}")`);

    const staticDir = await ensureRenderer((l) => ctx.out.warn(l));
    const service = createService({ home: ctx.home });
    let server;
    try {
      server = await startHttp({ service, staticDir, port });
    } catch (e) {
      await service.close();
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw usageError(`port ${port} is in use; pick another with --port or leave it out`);
      throw e;
    }
    ctx.out.event({ event: 'listening', url: server.url, port: server.port, home: ctx.home });
    ctx.out.text(`Outpost is serving its UI at (this machine only):\n\n    ${server.url}\n\nThe token in the URL is the key: share it only with people who may use this appliance. Ctrl-C stops.`);

    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    ctx.out.warn('outpost serve: stopping (running jobs are checkpointed and can be resumed)');
    await server.close();
    await service.close();
    ctx.out.json({ ok: true, stopped: true });
    return 0;
  },
};
