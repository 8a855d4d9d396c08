// `outpost gpu status|install|remove` and `outpost hub runtime publish`: ONNX Runtime's CUDA provider
// libraries as a GPU runtime in the data folder, published to a hub once by the administrator and
// installed from it with TUF like a model (src/registry/node/gpu-runtime-install.ts).
import path from 'node:path';
import { publishRuntimeRelease } from '../../hub/node/publish-client.ts';
import { gpuStatus, installGpuRuntime, removeGpuRuntimes, runtimeNameHere, type GpuStatus } from '../../registry/node/gpu-runtime-install.ts';
import { flag, str, type CommandSpec } from '../command.ts';
import { stageReporter } from '../progress.ts';
import { allowHttp, CA_HELP, CA_OPTION, connectedHub, deviceHub, hubTrust, RELEASE_PUBLISH_OPTIONS, releasePublishHelp, releasePublisher } from '../hub-access.ts';

const mb = (n: number): string => `${(n / 1e6).toFixed(0)} MB`;

function statusLines(s: GpuStatus): string[] {
  const lines = [`ONNX Runtime ${s.ortVersion} on ${s.platform}`];
  const r = s.runtime;
  if (!s.supported) lines.push(`GPU runtime: none needed on ${s.platform} (the providers onnxruntime-node ships are used as they are)`);
  else if (r.state === 'absent') lines.push('GPU runtime: not installed (`outpost gpu install` downloads it from the connected hub)');
  else if (r.state === 'modified') lines.push(`GPU runtime: MODIFIED, not used — ${r.problem}; reinstall with \`outpost gpu install\``, `  ${r.dir}`);
  else lines.push(`GPU runtime: installed, every file matches its manifest (${r.source!.name} release ${r.source!.release} from ${r.source!.hub}, ${mb(r.bytes!)}, ${r.installedAt})`, `  ${r.dir}`);
  for (const o of s.others) lines.push(`  also in the data folder, for another ONNX Runtime: ${o} (\`outpost gpu remove\` deletes it)`);
  if (s.machine) {
    const m = s.machine;
    lines.push(m.nvidiaDevices.length && m.libcuda ? `NVIDIA driver: found (${m.nvidiaDevices.join(', ')}; ${m.libcuda})` : `NVIDIA driver: not found (${[m.nvidiaDevices.length ? '' : 'no /dev/nvidia0', m.libcuda ? '' : 'no libcuda.so.1'].filter(Boolean).join(', ')})`);
    lines.push(m.cudaLibsMissing.length ? `CUDA 12 / cuDNN 9: missing ${m.cudaLibsMissing.join(', ')} (install them from NVIDIA, or put them on LD_LIBRARY_PATH)` : 'CUDA 12 / cuDNN 9: found');
  }
  const h = s.hub;
  if (h?.error) lines.push(`Hub ${h.url}: could not ask (${h.error})`);
  else if (h) lines.push(`Hub ${h.url}: ${h.state === 'none' ? `offers no GPU runtime for ONNX Runtime ${s.ortVersion} on ${s.platform}` : `offers release ${h.release} (${h.file}, ${mb(h.length ?? 0)})${h.state === 'current' ? ', installed' : ''}`}`);
  return lines;
}

const HUB_HELP = '--hub URL        the hub (default: $OUTPOST_HUB, else this workstation\'s connected hub)';

export const gpuStatusCommand: CommandSpec = {
  name: 'gpu status',
  summary: 'The GPU runtime (ONNX Runtime\'s CUDA libraries): installed and intact?, the driver and CUDA libraries, what the hub offers',
  usage: 'outpost gpu status [--hub <url>] [--offline]',
  help: [HUB_HELP, '--offline        do not ask the hub', ...CA_HELP],
  options: { hub: { type: 'string' }, offline: { type: 'boolean' }, ...CA_OPTION },
  positionals: { min: 0, max: 0 },
  async run(ctx, args) {
    const hubUrl = flag(args, 'offline') ? undefined : str(args, 'hub') ?? ctx.env.OUTPOST_HUB ?? connectedHub(ctx.home);
    if (hubUrl) hubTrust(ctx, args, hubUrl);
    const s = await gpuStatus({ home: ctx.home, hubUrl, signal: ctx.signal });
    for (const l of statusLines(s)) ctx.out.text(l);
    ctx.out.json({ ok: true, ...s });
    return 0;
  },
};

export const gpuCommand: CommandSpec = { ...gpuStatusCommand, name: 'gpu', usage: 'outpost gpu [status [--hub <url>] [--offline] | install [--check] | remove]' };

export const gpuInstallCommand: CommandSpec = {
  name: 'gpu install',
  summary: 'Download ONNX Runtime\'s CUDA libraries from the connected hub, verify them (TUF) and install them in the data folder',
  usage: 'outpost gpu install [--check] [--hub <url>] [--root <root.json>]',
  help: [
    '--check          report what the hub offers; install nothing',
    HUB_HELP,
    '--root FILE      the hub\'s root.json to trust (first time only)',
    'The hub carries them as a signed release of outpost-runtime-<os>-<arch>-cuda12-ort<version> (published',
    'once with `outpost hub runtime publish`). They land in <data folder>/runtimes/ with a manifest; every',
    'file is checked against it before ONNX Runtime is loaded from there.',
    ...CA_HELP,
  ],
  options: { check: { type: 'boolean' }, hub: { type: 'string' }, root: { type: 'string' }, ...CA_OPTION },
  positionals: { min: 0, max: 0 },
  async run(ctx, args) {
    const { hubUrl, rootFile } = deviceHub(ctx, args);
    const r = await installGpuRuntime({
      home: ctx.home, hubUrl, rootFile, checkOnly: flag(args, 'check'), signal: ctx.signal,
      onProgress: stageReporter(ctx, (e) => e.detail),
    });
    ctx.out.text(r.state === 'none' ? `${r.hub} has no GPU runtime ${r.name} (the administrator publishes it once: \`outpost hub runtime publish\`)`
      : r.state === 'available' ? `${r.name} release ${r.release} is available on ${r.hub} (${mb(r.length ?? 0)}); \`outpost gpu install\` installs it`
        : r.state === 'current' ? `${r.name} release ${r.release} is installed and intact: ${r.dir}`
          : `installed ${r.name} release ${r.release} from ${r.hub}: ${r.dir}\n  ONNX Runtime loads from there from the next run on (\`outpost gpu status\` shows the driver and CUDA libraries it needs)`);
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};

export const gpuRemoveCommand: CommandSpec = {
  name: 'gpu remove',
  summary: 'Remove the GPU runtime from the data folder (ONNX Runtime loads from the app again, CPU and bundled providers only)',
  usage: 'outpost gpu remove',
  help: ['Removes every runtime under <data folder>/runtimes/ and the provider probe\'s cached answers.'],
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const removed = removeGpuRuntimes(ctx.home);
    ctx.out.text(removed.length ? `removed ${removed.join(', ')}` : 'no GPU runtime is installed');
    ctx.out.json({ ok: true, removed });
    return 0;
  },
};

export const hubRuntimePublishCommand: CommandSpec = {
  name: 'hub runtime publish',
  summary: 'Sign ONNX Runtime\'s GPU package (the .nupkg `npm run setup:cuda` downloads) as a GPU runtime and publish it to a hub',
  usage: 'outpost hub runtime publish <Microsoft.ML.OnnxRuntime.Gpu.Linux.<version>.nupkg> --platform linux-x64 --ort <x.y.z> --release <n> --hub <url> --key <private key> --token <token>',
  help: [
    '--platform P          the platform it is for (linux-x64)',
    `--ort V               the ONNX Runtime version it is for; devices install the one matching theirs (this app: ${runtimeNameHere()})`,
    '--release N           release number: only grows, per platform and ONNX Runtime version',
    ...releasePublishHelp('outpost-runtime-*'),
  ],
  options: { platform: { type: 'string' }, ort: { type: 'string' }, ...RELEASE_PUBLISH_OPTIONS },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const { hubUrl, token, keys, release } = releasePublisher(ctx, args, ['platform', 'ort']);
    const platform = str(args, 'platform')!;
    const ort = str(args, 'ort')!;
    const r = await publishRuntimeRelease({
      file: path.resolve(ctx.cwd, args.positionals[0]), platform, release, ortVersion: ort, hubUrl, keys, token,
      signal: ctx.signal, home: ctx.home, allowHttp: allowHttp(args), onProgress: (e) => ctx.out.event({ event: 'progress', ...e }),
    });
    for (const v of r.versions) ctx.out.text(`published the GPU runtime for ONNX Runtime ${ort} on ${platform} as ${v.name}@${v.version} (publisher ${r.publisher}, metadata v${r.roleVersion})`);
    if (!r.versions.length) ctx.out.text('nothing new to publish (this release was already published)');
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};
