// Progress for long work: a one-line bar on a terminal (rows/s, ETA), JSON events with --json.
import { formatCount } from '../common/count.ts';
import type { Progress } from '../scoring/node/score-file.ts';
import type { CommandContext } from './command.ts';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export const formatRate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0));

/**
 * Progress of staged work (a pull, a GPU runtime install): every event as JSON with --json, and on a
 * terminal one line per stage entered (`… download model.onnx`), `detail` naming what the stage works on.
 */
export function stageReporter<E extends { stage: string }>(ctx: CommandContext, detail: (e: E) => string | undefined): (e: E) => void {
  let last = '';
  return (e) => {
    ctx.out.event({ event: 'progress', ...e });
    if (ctx.interactive && e.stage !== last) {
      const d = detail(e);
      ctx.out.warn(`… ${e.stage}${d ? ` ${d}` : ''}`);
    }
    last = e.stage;
  };
}

export function progressReporter(ctx: CommandContext, stream: NodeJS.WriteStream = process.stderr): { update(p: Progress): void; done(): void } {
  let drawn = false;
  return {
    update(p) {
      if (ctx.json) {
        ctx.out.event({ event: 'progress', ...p });
        return;
      }
      if (!ctx.interactive) return;
      const width = 28;
      const filled = Math.round(p.fraction * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const eta = p.etaSeconds === null ? '' : ` ETA ${formatDuration(p.etaSeconds)}`;
      stream.write(`\r${bar} ${(p.fraction * 100).toFixed(0).padStart(3)}%  ${formatCount(p.rowsRead)} rows  ${formatRate(p.rowsPerSecond)} rows/s${eta}  rejected ${p.rowsRejected}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
