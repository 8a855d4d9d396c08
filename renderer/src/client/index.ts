import type { OutpostClient, PreloadBridge } from '../../../src/api/common/client.ts';
import { httpClient } from './http.ts';
import { ipcClient } from './ipc.ts';

/** Electron's preload exposes window.outpost; in a browser the page talks HTTP to `outpost serve`. */
export function makeClient(): OutpostClient {
  const bridge = (window as unknown as { outpost?: PreloadBridge }).outpost;
  return bridge ? ipcClient(bridge) : httpClient();
}
