// Sync also refreshes the hub's signed (TUF) metadata, so a workstation that is online but only
// scores never runs into the offline grace period. One function, so the registry's own refresh
// (`outpost models check`) can take its place.
import { connectHub } from '../../registry/node/tuf-client.ts';

export async function refreshHubMetadata(home: string, hubUrl: string, signal?: AbortSignal): Promise<void> {
  await connectHub(home, hubUrl, { ...(signal ? { signal } : {}) });
}
