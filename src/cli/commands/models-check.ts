// `outpost models check`: refresh signed metadata from the hubs installed models came from, without
// installing anything; say which installed versions were yanked or are no longer signed.
import { usageError } from '../../common/errors.ts';
import { refreshMetadata } from '../../registry/node/refresh.ts';
import { str, type CommandSpec } from '../command.ts';
import { CA_HELP, CA_OPTION, hubTrust } from '../hub-access.ts';

export const modelsCheckCommand: CommandSpec = {
  name: 'models check',
  summary: 'Refresh signed metadata from the hubs (installs nothing); report yanked or unsigned installed versions',
  usage: 'outpost models check [--hub <url>]',
  help: ['--hub URL             check only this hub (default: every hub an installed model came from)', ...CA_HELP],
  options: { hub: { type: 'string' }, ...CA_OPTION },
  async run(ctx, args) {
    const only = str(args, 'hub');
    if (only) hubTrust(ctx, args, only);
    else if (str(args, 'ca') !== undefined) throw usageError('--ca needs --hub: the CA is kept for that hub');
    const reports = await refreshMetadata({ home: ctx.home, hubUrl: str(args, 'hub'), signal: ctx.signal });
    if (!reports.length) ctx.out.text('no installed model comes from a hub; nothing to check');
    for (const r of reports) {
      if (r.state === 'unavailable') ctx.out.text(`${r.hub}: unavailable (${r.message}); installed models keep being served within their offline grace period`);
      else if (r.state === 'refused') ctx.out.text(`${r.hub}: metadata REFUSED: ${r.message}`);
      else ctx.out.text(`${r.hub}: metadata refreshed and verified (valid until ${r.expires ?? '?'})`);
      for (const m of r.models) {
        if (m.status === 'ok') ctx.out.text(`  ${m.name}@${m.version}: signed`);
        else ctx.out.text(`  ${m.name}@${m.version}: ${m.status.toUpperCase()}: ${m.detail}`);
      }
    }
    ctx.out.json({ ok: reports.every((r) => r.state !== 'refused'), hubs: reports });
    return reports.some((r) => r.state === 'refused') ? 1 : 0;
  },
};
