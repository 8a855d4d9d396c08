// `outpost app update` and `outpost hub app publish`: signed app releases through a hub, verified
// with TUF like a model pull (src/registry/node/app-update.ts).
import path from 'node:path';
import { publishAppRelease } from '../../hub/node/publish-client.ts';
import { checkAppUpdate } from '../../registry/node/app-update.ts';
import { OUTPOST_VERSION } from '../../sync/node/device.ts';
import { flag, str, type CommandSpec } from '../command.ts';
import { allowHttp, CA_HELP, CA_OPTION, deviceHub, RELEASE_PUBLISH_OPTIONS, releasePublishHelp, releasePublisher } from '../hub-access.ts';

export const appUpdateCommand: CommandSpec = {
  name: 'app update',
  summary: 'Check the hub for a newer signed Outpost release for this platform; download, verify (TUF) and stage it',
  usage: 'outpost app update [--check] [--hub <url>] [--root <root.json>] [--platform <os>-<arch>]',
  help: [
    '--check          report what the hub offers; download nothing',
    '--hub URL        the hub (default: $OUTPOST_HUB, else this workstation\'s connected hub)',
    '--root FILE      the hub\'s root.json to trust (first time only)',
    '--platform P     <linux|win32|darwin>-<x64|arm64> (default: this machine\'s)',
    'The installer lands in <data folder>/updates/<release>/ and updates/pending.json names it; the app',
    'installs it on restart. A release not newer than this one is refused (and recorded), as is anything',
    'unsigned or not matching its signed hash.',
    ...CA_HELP,
  ],
  options: { check: { type: 'boolean' }, hub: { type: 'string' }, root: { type: 'string' }, platform: { type: 'string' }, ...CA_OPTION },
  positionals: { min: 0, max: 0 },
  async run(ctx, args) {
    const { hubUrl, rootFile } = deviceHub(ctx, args);
    const r = await checkAppUpdate({
      home: ctx.home, hubUrl, currentVersion: OUTPOST_VERSION, platform: str(args, 'platform'), rootFile,
      checkOnly: flag(args, 'check'), signal: ctx.signal,
    });
    const rel = r.release;
    ctx.out.text(r.state === 'none' ? `${r.hub} has no signed Outpost release for ${r.platform}`
      : r.state === 'current' ? `Outpost ${r.current} is the newest signed release for ${r.platform} on ${r.hub}`
        : r.state === 'available' ? `Outpost ${rel!.version} (release ${rel!.release}) is available for ${r.platform} (running ${r.current}); \`outpost app update\` downloads it`
          : `Outpost ${rel!.version} (release ${rel!.release}) verified and staged: ${r.installer}\n  installed when the app restarts`);
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};

export const hubAppPublishCommand: CommandSpec = {
  name: 'hub app publish',
  summary: 'Sign an Outpost installer as an app release for one platform and publish it to a hub',
  usage: 'outpost hub app publish <installer> --platform <os>-<arch> --release <n> --app-version <x.y.z> --hub <url> --key <private key> --token <token>',
  help: [
    '--platform P          <linux|win32|darwin>-<x64|arm64>: published as outpost-app-<P>',
    '--release N           release number: only grows, per platform (the hub refuses reuse or going back)',
    '--app-version V       the version the installer installs (x.y.z); devices refuse one not newer than theirs',
    ...releasePublishHelp('outpost-app-*'),
  ],
  options: { platform: { type: 'string' }, 'app-version': { type: 'string' }, ...RELEASE_PUBLISH_OPTIONS },
  positionals: { min: 1, max: 1 },
  async run(ctx, args) {
    const { hubUrl, token, keys, release } = releasePublisher(ctx, args, ['platform', 'app-version']);
    const platform = str(args, 'platform')!;
    const version = str(args, 'app-version')!;
    const r = await publishAppRelease({
      installer: path.resolve(ctx.cwd, args.positionals[0]), platform, release, version, hubUrl, keys, token,
      signal: ctx.signal, home: ctx.home, allowHttp: allowHttp(args), onProgress: (e) => ctx.out.event({ event: 'progress', ...e }),
    });
    for (const v of r.versions) ctx.out.text(`published Outpost ${version} as ${v.name}@${v.version} (publisher ${r.publisher}, metadata v${r.roleVersion})`);
    if (!r.versions.length) ctx.out.text('nothing new to publish (this release was already published)');
    ctx.out.json({ ok: true, ...r });
    return 0;
  },
};
