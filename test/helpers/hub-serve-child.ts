// A hub server in its own process (for multi-process tests): prints its URL, serves until killed.
import { openHub } from '../../src/hub/node/repository.ts';
import { startHubServer } from '../../src/hub/node/server.ts';

const hub = await openHub(process.argv[2]);
const server = await startHubServer(hub);
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => { void server.close().then(() => hub.close()).then(() => process.exit(0)); });
