// Settings → GPU: the GPU runtime (ONNX Runtime's CUDA provider libraries, an opt-in signed download
// from the connected hub into the data folder): installed and intact?, what this running Outpost
// loads, the NVIDIA driver and CUDA libraries, what the hub offers; Install (progress; a refusal
// names its stage) and Remove. The same contract as `outpost gpu status|install|remove`.
import { useState } from 'react';
import type { GpuView } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { bytes, when } from '../format.ts';
import { asApiError, useCall, useClient, useEvents } from '../state.tsx';
import { ErrorBox, Section } from './common.tsx';

const STAGE_LABEL: Record<string, string> = { metadata: 'Checking signed metadata', download: 'Downloading', extract: 'Taking out the provider libraries', install: 'Installing' };

function errorTitle(e: ApiError): string {
  const stage = /refused at ([a-z-]+)/.exec(e.message)?.[1];
  if (e.code === 'package') return `Install refused${stage ? ` at ${stage}` : ''}`;
  if (e.code === 'input') return 'Hub unreachable';
  if (e.code === 'usage') return 'Cannot install';
  return 'Install failed';
}

function RuntimeLine({ v }: { v: GpuView }) {
  const r = v.runtime;
  if (!v.supported) return <span className="muted">none needed on {v.platform}: the providers ONNX Runtime ships are used as they are</span>;
  if (r.state === 'absent') return <span className="muted">not installed</span>;
  if (r.state === 'modified') return <span className="error-text" data-testid="gpu-modified">modified, not used: {r.problem}</span>;
  return <span><span className="ok">✓ installed, every file matches its manifest</span> — release {r.source!.release} from <span className="mono">{r.source!.hub}</span>, {bytes(r.bytes ?? 0)}, {when(r.installedAt)}</span>;
}

export function GpuRuntime() {
  const client = useClient();
  const { data, error, reload } = useCall('gpu.status', { hub: false });
  const [view, setView] = useState<GpuView | undefined>();
  const [busy, setBusy] = useState<'check' | 'install' | 'remove' | undefined>();
  const [progress, setProgress] = useState<{ stage: string; detail?: string; received?: number; total?: number } | undefined>();
  const [err, setErr] = useState<ApiError | undefined>();
  useEvents((e) => { if (e.type === 'gpu-progress' && busy === 'install') setProgress(e.progress); });
  const v = view ?? data;
  const run = (what: 'check' | 'install' | 'remove', p: Promise<GpuView>) => {
    setBusy(what);
    setErr(undefined);
    setProgress(undefined);
    p.then(setView, (e: unknown) => { setErr(asApiError(e)); setView(undefined); reload(); }).finally(() => setBusy(undefined));
  };
  const m = v?.machine;
  const h = v?.hub;
  const pct = progress?.total ? Math.round(((progress.received ?? 0) / progress.total) * 100) : undefined;
  return (
    <Section title="GPU" id="set-gpu" actions={v?.supported ? <button type="button" className="btn" onClick={() => run('check', client.call('gpu.status', { hub: true }))} disabled={!v?.connectedHub || busy !== undefined} data-testid="gpu-check">{busy === 'check' ? 'Asking the hub…' : 'Check the hub'}</button> : undefined}>
      <ErrorBox error={error} />
      {v && (
        <dl className="kv" data-testid="gpu-status">
          <dt>ONNX Runtime</dt><dd data-testid="gpu-ort">{v.ortVersion} ({v.platform}){v.loadedFrom ? <> — this Outpost runs it from the GPU runtime</> : <> — this Outpost runs the app’s own</>}</dd>
          <dt>GPU runtime</dt><dd data-testid="gpu-runtime"><RuntimeLine v={v} />{v.runtime.state !== 'absent' && <div className="mono small">{v.runtime.dir}</div>}</dd>
          {v.loadNote && <><dt>Note</dt><dd data-testid="gpu-note">{v.loadNote}</dd></>}
          {m && <><dt>NVIDIA driver</dt><dd data-testid="gpu-driver">{m.nvidiaDevices.length && m.libcuda ? <>found ({m.nvidiaDevices.join(', ')}; <span className="mono">{m.libcuda}</span>)</> : <span className="muted">not found ({[m.nvidiaDevices.length ? '' : 'no /dev/nvidia0', m.libcuda ? '' : 'no libcuda.so.1'].filter(Boolean).join(', ')}): CUDA cannot run on this machine</span>}</dd></>}
          {m && <><dt>CUDA 12 / cuDNN 9</dt><dd data-testid="gpu-cuda">{m.cudaLibsMissing.length ? <span className="muted">missing {m.cudaLibsMissing.join(', ')}</span> : 'found'}</dd></>}
          {v.supported && <><dt>Hub</dt><dd data-testid="gpu-hub">{!v.connectedHub ? <span className="muted">no hub: connect one under "Hub and sync" to install the GPU runtime from it</span>
            : h?.error ? <span className="error-text">{h.url}: {h.error}</span>
              : h ? (h.state === 'none' ? <>{h.url} offers no GPU runtime for ONNX Runtime {v.ortVersion} (the administrator publishes it once: <span className="mono">outpost hub runtime publish</span>)</> : <><span className="mono">{h.url}</span> offers release {h.release} ({h.file}, {bytes(h.length ?? 0)}){h.state === 'current' ? ' — installed' : ''}</>)
                : <span className="mono">{v.connectedHub}</span>}</dd></>}
          {v.others.length > 0 && <><dt>Unused</dt><dd>{v.others.join(', ')} (for another ONNX Runtime; Remove deletes it)</dd></>}
        </dl>
      )}
      {busy === 'install' && (
        <div data-testid="gpu-progress" aria-live="polite">
          <p>{progress ? STAGE_LABEL[progress.stage] ?? progress.stage : 'Starting'}{progress?.detail ? ` ${progress.stage === 'install' ? '' : progress.detail}` : ''}{pct !== undefined ? ` — ${pct} % of ${bytes(progress!.total!)}` : ''}…</p>
          {pct !== undefined && <progress max={100} value={pct} />}
        </div>
      )}
      <ErrorBox error={err} title={err ? errorTitle(err) : undefined} />
      {v?.supported && (
        <div className="actions">
          <button type="button" className="btn btn-primary" onClick={() => run('install', client.call('gpu.install', {}))} disabled={!v.connectedHub || busy !== undefined} data-testid="gpu-install">{busy === 'install' ? 'Installing…' : v.runtime.state === 'absent' ? 'Install' : 'Install again'}</button>
          {(v.runtime.state !== 'absent' || v.others.length > 0) && <button type="button" className="btn" onClick={() => run('remove', client.call('gpu.remove', {}))} disabled={busy !== undefined} data-testid="gpu-remove">{busy === 'remove' ? 'Removing…' : 'Remove'}</button>}
        </div>
      )}
      <p className="muted small">ONNX Runtime’s CUDA libraries (hundreds of MB) are an opt-in download: signed by your hub’s runtime publisher and checked like a model pull, installed in the data folder, and checked against their manifest each time before ONNX Runtime loads them. A modified file is not loaded.</p>
    </Section>
  );
}
