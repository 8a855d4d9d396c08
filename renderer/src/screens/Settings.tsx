import { useEffect, useState } from 'react';
import type { SettingsShape } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { AppUpdates } from '../components/AppUpdates.tsx';
import { GpuRuntime } from '../components/GpuRuntime.tsx';
import { ErrorBox, Section } from '../components/common.tsx';
import { ApiTokens } from '../components/ApiTokens.tsx';
import { ConnectHub } from '../components/SyncPanel.tsx';
import { asApiError, useCall, useClient } from '../state.tsx';
import { ThemeChoice } from '../theme.tsx';

const GiB = 1024 ** 3;

export function Settings() {
  const client = useClient();
  const { data, error } = useCall('settings.get', {});
  const [draft, setDraft] = useState<SettingsShape | undefined>();
  const [saved, setSaved] = useState('');
  const [saveError, setSaveError] = useState<ApiError | undefined>();
  const [saving, setSaving] = useState(false);
  useEffect(() => { if (data && !draft) setDraft(data.settings); }, [data, draft]);
  if (!data || !draft) return <div className="screen"><h1>Settings</h1><ErrorBox error={error} />{!error && <p className="muted">Loading…</p>}</div>;
  const set = <K extends keyof SettingsShape>(k: K, v: SettingsShape[K]) => { setDraft({ ...draft, [k]: v }); setSaved(''); };
  const save = () => {
    setSaveError(undefined);
    setSaving(true);
    // A changed provider is checked on this machine before it is saved (the core refuses one that cannot work, saying why).
    client.call('settings.update', { patch: draft }).then((r) => { setDraft(r.settings); setSaved('Settings saved.'); }, (e: unknown) => setSaveError(asApiError(e))).finally(() => setSaving(false));
  };
  const providerChanged = draft.provider !== data.settings.provider;
  return (
    <div className="screen">
      <h1>Settings</h1>
      <form onSubmit={(e) => { e.preventDefault(); save(); }} className="settings">
        <Section title="Data folder" id="set-home">
          <p className="mono" data-testid="home">{data.home}</p>
          <p className="muted small">Models, the prediction log and job files live here. Choose another with <code>--home</code> or <code>OUTPOST_HOME</code> when starting Outpost.</p>
        </Section>
        <Section title="Execution provider" id="set-provider">
          <label>Preferred provider for new jobs
            <select value={draft.provider} onChange={(e) => set('provider', e.target.value as SettingsShape['provider'])} data-testid="provider-select">
              <option value="auto">Automatic (best that works here)</option>
              <option value="cpu">CPU</option><option value="cuda">CUDA (NVIDIA GPU)</option><option value="webgpu">WebGPU</option>
              <option value="dml">DirectML (Windows)</option><option value="coreml">Core ML (macOS)</option>
            </select>
          </label>
          <p className="muted small">A provider other than Automatic or CPU is tried on this machine when you save; one that cannot work here is not saved, and the reason is shown.</p>
        </Section>
        <Section title="Prediction log" id="set-log">
          <label>Which inputs to keep with each prediction
            <select value={draft.logInputs} onChange={(e) => set('logInputs', e.target.value as SettingsShape['logInputs'])}>
              <option value="all">All inputs</option><option value="sampled">A sample of rows</option><option value="none">None (outputs only)</option>
            </select>
          </label>
          <label>Sample rate (fraction of rows)
            <input type="number" min={0} max={1} step={0.001} value={draft.logSampleRate} disabled={draft.logInputs !== 'sampled'} onChange={(e) => set('logSampleRate', Number(e.target.value))} />
          </label>
          <label>Keep at most (GiB)
            <input type="number" min={0.01} step={0.01} value={+(draft.retentionMaxBytes / GiB).toFixed(3)} onChange={(e) => set('retentionMaxBytes', Math.round(Number(e.target.value) * GiB))} />
          </label>
          <label>Keep for at most (days)
            <input type="number" min={1} max={36500} step={1} value={draft.retentionMaxAgeDays} onChange={(e) => set('retentionMaxAgeDays', Math.round(Number(e.target.value)))} data-testid="retention-days" />
          </label>
        </Section>
        <Section title="Hub and sync" id="set-sync">
          <ConnectHub />
          <label>Sync in the background every (minutes; 0 = only when asked)
            <input type="number" min={0} max={10080} step={1} value={+(draft.syncIntervalSeconds / 60).toFixed(2)} onChange={(e) => set('syncIntervalSeconds', Math.round(Number(e.target.value) * 60))} data-testid="sync-interval" />
          </label>
          <label>Predictions sent to the hub
            <select value={draft.syncPredictions} onChange={(e) => set('syncPredictions', e.target.value as SettingsShape['syncPredictions'])}>
              <option value="all">All</option><option value="sampled">A sample of rows</option><option value="none">None (drift statistics and events only)</option>
            </select>
          </label>
          <label>Model versions the hub rolls out to this workstation
            <select value={draft.rolloutPolicy} onChange={(e) => set('rolloutPolicy', e.target.value as SettingsShape['rolloutPolicy'])} data-testid="rollout-policy">
              <option value="auto">Install them at the next sync (verified)</option><option value="ask">Ask me first (Home shows “Update available”)</option>
            </select>
          </label>
          <label>Upload at most (KiB/s; 0 = no limit)
            <input type="number" min={0} step={1} value={Math.round(draft.syncBandwidthBytesPerSecond / 1024)} onChange={(e) => set('syncBandwidthBytesPerSecond', Math.round(Number(e.target.value) * 1024))} />
          </label>
          <label>Keep at most this much waiting while offline (MiB)
            <input type="number" min={1} step={1} value={Math.round(draft.syncQuotaBytes / 1024 ** 2)} onChange={(e) => set('syncQuotaBytes', Math.round(Number(e.target.value) * 1024 ** 2))} />
          </label>
          <p className="muted small">Past that, the oldest predictions are dropped from the upload queue (never alerts or security events), and the hub is told what was dropped.</p>
        </Section>
        <GpuRuntime />
        <AppUpdates />
        <Section title="Drift alerts" id="set-drift">
          <label>Webhook URL (POST one JSON message per scoring job that opens drift alerts; empty = off)
            <input type="url" placeholder="https://hooks.example.org/outpost" value={draft.driftWebhookUrl} onChange={(e) => set('driftWebhookUrl', e.target.value.trim())} data-testid="drift-webhook" />
          </label>
          <p className="muted small">Sent in the background (scoring never waits), retried with backoff for about 3 hours; each message carries an X-Outpost-Delivery id, the same on a retry.</p>
        </Section>
        <Section title="Appearance" id="set-theme"><ThemeChoice /></Section>
        <ErrorBox error={saveError} title="Could not save the settings" />
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={saving}>{saving ? (providerChanged ? 'Checking the provider…' : 'Saving…') : 'Save settings'}</button>
          <span role="status" className="ok" data-testid="saved">{saved}</span>
        </div>
      </form>
      {/* outside the settings form: tokens act at once (create, revoke), not on Save */}
      <div className="settings"><ApiTokens /></div>
    </div>
  );
}
