// The server side of bench/cases/scoring-api.ts, in its own process (as `outpost serve --api` runs):
// the serve HTTP server with the scoring API under /v1, no UI files, no rate limit in the way.
// Prints {"port": N} on stdout once listening; stops on SIGTERM (committing the record sessions).
import { startHttp } from '../../src/api/node/http.ts';
import { createScoringApi } from '../../src/api/node/scoring-api.ts';
import { createService } from '../../src/api/node/service.ts';

const home = process.argv[2];
const service = createService({ home });
const api = createScoringApi({ home, rate: { rate: 1e9, burst: 1e9 } });
const server = await startHttp({ service, staticDir: null, v1: (req, res, p, q) => api.handle(req, res, p, q) });
process.stdout.write(JSON.stringify({ port: server.port }) + '\n');
process.once('SIGTERM', () => {
  void (async () => {
    await server.close();
    await api.close();
    await service.close();
    process.exit(0);
  })();
});
