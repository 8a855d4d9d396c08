// `outpost serve`: the headless host of the app UI, for workstations without a desktop session,
// kiosks and browser tests. Loopback only, token-protected (printed once, like Jupyter).
import { usageError } from '../../common/errors.ts';
import { HOST, startHttp } from '../../api/node/http.ts';
import { ensureRenderer } from '../../api/node/renderer-build.ts';
import { createService } from '../../api/node/service.ts';
import type { ScoringApi } from '../../api/node/scoring-api.ts';
import { flag, str, wholeNumber, type CommandSpec } from '../command.ts';

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Serve the Outpost app UI to a browser on this machine (127.0.0.1 only, token-protected); --api adds the local scoring API',
  usage: 'outpost serve [--port P] [--host 127.0.0.1] [--api [--api-rate N] [--api-max-records N] [--api-max-body BYTES]]',
  help: [
    '--port P              port to listen on (default: a free one)',
    '--host H              only 127.0.0.1 (or localhost) is allowed: the UI is never exposed to the network',
    '--api                 also serve the scoring API under /v1 (bearer tokens from `outpost tokens create`; OpenAPI at /v1/openapi.json)',
    '--api-rate N          records per second per token (default 5000; 429 with Retry-After beyond)',
    '--api-max-records N   records per request (default 10000)',
    '--api-max-body BYTES  request body limit (default 1048576; 413 beyond)',
  ],
  options: { port: { type: 'string' }, host: { type: 'string' }, api: { type: 'boolean' }, 'api-rate': { type: 'string' }, 'api-max-records': { type: 'string' }, 'api-max-body': { type: 'string' } },
  async run(ctx, args) {
    const host = str(args, 'host');
    if (host !== undefined && host !== HOST && host !== 'localhost') throw usageError(`--host must be 127.0.0.1: serve binds to loopback only (got "${host}"); reach it remotely through an SSH tunnel`);
    const port = wholeNumber(args, 'port', 0, 65535) ?? 0;

    const rate = wholeNumber(args, 'api-rate', 1);
    const maxRecords = wholeNumber(args, 'api-max-records', 1);
    const maxBodyBytes = wholeNumber(args, 'api-max-body', 1);
    if (!flag(args, 'api') && (rate ?? maxRecords ?? maxBodyBytes) !== undefined) throw usageError('--api-rate, --api-max-records and --api-max-body need --api');

    const staticDir = await ensureRenderer((l) => ctx.out.warn(l));
    const service = createService({ home: ctx.home });
    let api: ScoringApi | undefined;
    let server;
    try {
      if (flag(args, 'api')) {
        const { createScoringApi, API_DEFAULTS } = await import('../../api/node/scoring-api.ts');
        api = createScoringApi({
          home: ctx.home, onWarning: (l) => ctx.out.warn(`outpost serve: ${l}`),
          ...(maxRecords ? { maxRecords } : {}), ...(maxBodyBytes ? { maxBodyBytes } : {}),
          ...(rate ? { rate: { rate, burst: Math.max(rate * 2, API_DEFAULTS.rate.burst) } } : {}),
        });
      }
      const v1 = api;
      server = await startHttp({ service, staticDir, port, ...(v1 ? { v1: (req, res, p, q) => v1.handle(req, res, p, q) } : {}) });
    } catch (e) {
      await api?.close();
      await service.close();
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw usageError(`port ${port} is in use; pick another with --port or leave it out`);
      throw e;
    }
    const apiUrl = api ? `http://127.0.0.1:${server.port}/v1/` : undefined;
    ctx.out.event({ event: 'listening', url: server.url, port: server.port, home: ctx.home, ...(apiUrl ? { api: apiUrl } : {}) });
    ctx.out.text(`Outpost is serving its UI at (this machine only):\n\n    ${server.url}\n\nThe token in the URL is the key: share it only with people who may use this appliance. Ctrl-C stops.`);
    if (apiUrl) ctx.out.text(`\nScoring API: ${apiUrl} (bearer tokens: \`outpost tokens create --name <name>\`; description: ${apiUrl}openapi.json)`);

    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    ctx.out.warn('outpost serve: stopping (running jobs are checkpointed and can be resumed)');
    await server.close();
    await api?.close();
    await service.close();
    ctx.out.json({ ok: true, stopped: true });
    return 0;
  },
};
