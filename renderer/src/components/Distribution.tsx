// Output distribution of a job as plain SVG bars: class counts (and the top-class confidence) for
// classifiers, a value histogram for regression. No chart library: small, themeable, accessible.
import type { Distribution } from '../../../src/api/common/contract.ts';
import { int, pct } from '../format.ts';

function Bars({ items, title, unit }: { items: { label: string; count: number }[]; title: string; unit: string }) {
  // HTML bars (label, bar, count on one line): readable at any zoom and by screen readers as a list.
  const max = Math.max(1, ...items.map((i) => i.count));
  const total = items.reduce((n, i) => n + i.count, 0) || 1;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <ul className="hbars">
        {items.map((it) => (
          <li key={it.label} data-testid={`dist-${it.label}`} aria-label={`${it.label}: ${int(it.count)} ${unit}, ${pct(it.count / total)}`}>
            <span className="mono hbar-label">{it.label}</span>
            <span className="hbar-track" aria-hidden="true"><span className="hbar" style={{ width: `${Math.max(0.5, (it.count / max) * 100)}%` }} /></span>
            <span className="num hbar-count">{int(it.count)}</span>
            <span className="muted num hbar-pct">{pct(it.count / total)}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

function Histogram({ edges, counts, title }: { edges: number[]; counts: number[]; title: string }) {
  const max = Math.max(1, ...counts);
  const w = 400 / Math.max(1, counts.length);
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg role="img" aria-label={`${title}: ${counts.length} bins from ${fmt(edges[0] ?? 0)} to ${fmt(edges[edges.length - 1] ?? 0)}`} viewBox="0 0 400 120" preserveAspectRatio="none" className="hist">
        {counts.map((c, i) => (
          <rect key={i} className="bar" x={i * w + 1} width={Math.max(1, w - 2)} y={120 - (c / max) * 116} height={(c / max) * 116}>
            <title>{`${fmt(edges[i])} – ${fmt(edges[i + 1])}: ${int(c)}`}</title>
          </rect>
        ))}
      </svg>
      <div className="hist-axis muted"><span>{fmt(edges[0] ?? 0)}</span><span>{fmt(edges[edges.length - 1] ?? 0)}</span></div>
    </figure>
  );
}

export function DistributionView({ d }: { d: Distribution }) {
  if (d.kind === 'empty') return <p className="muted">No predictions were logged for this job.</p>;
  if (d.kind === 'classes') {
    return (
      <div className="charts">
        <Bars items={d.classes} title="Predicted class" unit="rows" />
        <Histogram edges={d.confidence.edges} counts={d.confidence.counts} title="Top-class probability" />
      </div>
    );
  }
  return <div className="charts"><Histogram edges={d.histogram.edges} counts={d.histogram.counts} title="Predicted value" /></div>;
}
