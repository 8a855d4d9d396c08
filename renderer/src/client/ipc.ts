// The Electron client: the same interface over the preload bridge (window.outpost). Files need no
// upload there: the preload turns a picked or dropped File into its path.
import type { OutpostClient, PreloadBridge } from '../../../src/api/common/client.ts';
import { ApiError } from './error.ts';

export function ipcClient(bridge: PreloadBridge): OutpostClient {
  return {
    host: 'electron',
    async call(method, params) {
      const out = await bridge.call(method, params ?? {});
      if (out.ok) return out.result as never;
      throw new ApiError(out.error);
    },
    subscribe: (listener) => bridge.onEvent(listener),
    async provideFile(file) {
      const path = bridge.pathForFile(file);
      if (!path) throw new ApiError({ code: 'input', message: `${file.name} is not a file on this computer` });
      return { path, name: file.name, size: file.size };
    },
    async openOutput(jobId, which) {
      const out = await bridge.reveal(jobId, which);
      if (!out.ok) throw new ApiError(out.error);
    },
  };
}
