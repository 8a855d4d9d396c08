// A hub server in its own process (for multi-process tests): prints {"url", "storage"} as one JSON
// line, serves until killed. argv: <hub dir> [db setting].
import { openHub } from '../../src/hub/node/repository.ts';
import { startHubServer } from '../../src/hub/node/server.ts';

const hub = await openHub(process.argv[2], { db: process.argv[3] });
const server = await startHubServer(hub, { onError: (e) => process.stderr.write(`hub error: ${(e as Error).stack ?? String(e)}\n`) });
process.stdout.write(`${JSON.stringify({ url: server.url, storage: hub.storage.kind })}\n`);
process.on('SIGTERM', () => { void server.close().then(() => hub.close()).then(() => process.exit(0)); });
