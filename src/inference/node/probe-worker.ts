// Worker thread hosting provider probes (see probe.ts), so that GPU session creation, which can
// block for seconds, never stalls the caller's event loop.
import { parentPort } from 'node:worker_threads';
import type { ProbeResult } from '../common/providers.ts';
import type { FromProbe, ToProbe } from '../common/protocol.ts';
import { gatherPlatformFacts } from './platform.ts';
import { probeProvider } from './probe.ts';

const facts = gatherPlatformFacts();

// One probe at a time: two GPU providers initialising at once would only slow each other down.
let queue: Promise<unknown> = Promise.resolve();
parentPort?.on('message', (m: ToProbe) => {
  queue = queue.then(async () => {
    const result = await probeProvider(m.name, facts).catch((e: unknown): ProbeResult => ({ name: m.name, outcome: 'probe-failed', reason: String((e as Error)?.message ?? e) }));
    const reply: FromProbe = { kind: 'probed', id: m.id, result };
    parentPort?.postMessage(reply);
  });
});
