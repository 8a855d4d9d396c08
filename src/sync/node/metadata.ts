// Sync also refreshes the hub's signed (TUF) metadata, so a workstation that is online but only
// scores never runs into the offline grace period: the registry's own refresh (`outpost models
// check`), which also records yanked and revoked versions.
import { OutpostError } from '../../common/errors.ts';
import { refreshMetadata } from '../../registry/node/refresh.ts';
import type { Store } from '../../store/node/store.ts';

export async function refreshHubMetadata(store: Store, hubUrl: string, signal?: AbortSignal): Promise<void> {
  const reports = await refreshMetadata({ home: store.home, store, hubUrl, ...(signal ? { signal } : {}) });
  const bad = reports.find((r) => r.state !== 'ok');
  if (bad) throw new OutpostError('input', `${bad.hub}: ${'message' in bad && bad.message ? bad.message : bad.state}`);
}
