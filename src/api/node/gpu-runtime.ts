// Settings → GPU behind the contract (the same in serve mode and in the Electron app): the GPU
// runtime's state (registry/node/gpu-runtime-install.ts, as `outpost gpu status`), install from the
// connected hub with progress (TUF, like a pull; a refusal names its stage), remove, and which ONNX
// Runtime this running core loads (the choice is made once per process: a new runtime is used
// after a restart).
import { OutpostError } from '../../common/errors.ts';
import { activeRuntimeDir } from '../../inference/node/ort-runtime.ts';
import { PullUnavailable } from '../../registry/node/errors.ts';
import { gpuStatus, installGpuRuntime, removeGpuRuntimes } from '../../registry/node/gpu-runtime-install.ts';
import { getHubSetting, type Store } from '../../store/node/store.ts';
import type { GpuView } from '../common/contract.ts';

export function createGpuRuntime(store: Store, onProgress: (p: { stage: string; detail?: string; received?: number; total?: number }) => void) {
  let installing = false;

  const view = async (askHub: boolean): Promise<GpuView> => {
    const hub = getHubSetting(store)?.url ?? null;
    const s = await gpuStatus({ home: store.home, hubUrl: askHub && hub ? hub : undefined });
    const loadedFrom = activeRuntimeDir() ?? null;
    // what this process chose when it started (ort-runtime.ts) stays until it restarts
    let loadNote: string | null = null;
    if (s.runtime.state === 'ok' && loadedFrom !== s.runtime.dir) loadNote = 'not in use by this running Outpost (installed after it started): it is used from the next start';
    if (s.runtime.state !== 'ok' && loadedFrom) loadNote = 'removed or changed after this Outpost started, which keeps the one it loaded until it restarts';
    return { ...s, connectedHub: hub, loadedFrom, loadNote };
  };

  return {
    view,
    async install(): Promise<GpuView> {
      const hub = getHubSetting(store);
      if (!hub) throw new OutpostError('usage', 'this workstation is not connected to a hub: connect it under "Hub and sync", then install the GPU runtime from it');
      if (installing) throw new OutpostError('conflict', 'a GPU runtime install is already running');
      installing = true;
      try {
        await installGpuRuntime({ home: store.home, hubUrl: hub.url, onProgress });
      } catch (e) {
        if (e instanceof PullUnavailable) throw new OutpostError('input', `could not reach the hub: ${e.message}. Nothing changed; try again when the hub is reachable`);
        throw e;
      } finally {
        installing = false;
      }
      return view(true);
    },
    async remove(): Promise<GpuView> {
      if (installing) throw new OutpostError('conflict', 'a GPU runtime install is running');
      removeGpuRuntimes(store.home);
      return view(false);
    },
  };
}
