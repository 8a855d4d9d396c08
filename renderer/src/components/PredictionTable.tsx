// The prediction preview: a virtualized grid over the whole query (millions of rows), pages fetched
// from the store as they scroll into view, sortable by any output column (sorted by the core).
// - The scroll is scaled (scaled-scroll.ts), so every row is reachable past the browser's
//   element-height limit (~1,048,575 rows of 32 px in Chromium).
// - A new sort or filter is shown as busy at once: the old rows go away (they no longer answer the
//   question), and answers to an earlier query or sort are dropped when they arrive.
// - Without a job filter, every row says which job (and model version) it comes from.
// - One scroll container holds the sticky header and the rows, so columns stay aligned when the
//   grid scrolls sideways and no column hides under the scrollbar.
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Params, PredictionRow } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { cell, int } from '../format.ts';
import { asApiError, useClient } from '../state.tsx';
import { ErrorBox } from './common.tsx';
import { ScaledScroll } from './scaled-scroll.ts';

type Query = Omit<Params<'predictions.page'>, 'offset' | 'limit' | 'sort'>;
type Sort = { column: string; descending: boolean };
const PAGE = 200;
const ROW_HEIGHT = 32;
const OVERSCAN = 8;

/** Column widths in rem: wide enough for what they hold (a 9-digit row number, a job id), never squeezed. */
function widthOf(c: string): number {
  if (c === 'row') return 7;
  if (c === 'job') return 11.5;
  if (c === 'model') return 11;
  if (c === 'id' || c === 'label') return 9;
  if (c.startsWith('input.')) return Math.max(8, Math.min(14, c.length * 0.6 + 2));
  return Math.max(7, Math.min(12, c.length * 0.6 + 2));
}

interface Loaded { key: string; total: number; columns: string[]; sortable: string[] }

export function PredictionTable({ query, label }: { query: Query; label: string }) {
  const client = useClient();
  const [sort, setSort] = useState<Sort | undefined>();
  const [loaded, setLoaded] = useState<Loaded | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const pages = useRef(new Map<number, PredictionRow[] | 'loading'>());
  const [, setVersion] = useState(0);
  const queryKey = JSON.stringify([query, sort]);
  const currentKey = useRef(queryKey);
  const busy = loaded?.key !== queryKey && !error;

  const load = (page: number, key: string) => {
    if (key !== currentKey.current || pages.current.has(page)) return;
    pages.current.set(page, 'loading');
    client.call('predictions.page', { ...query, ...(sort ? { sort } : {}), offset: page * PAGE, limit: PAGE }).then((r) => {
      if (key !== currentKey.current) return; // an answer to an earlier query or sort: dropped
      pages.current.set(page, r.rows);
      setLoaded((l) => (l?.key === key && l.total === r.total ? l : { key, total: r.total, columns: r.columns, sortable: r.sortable }));
      setVersion((v) => v + 1);
    }, (e: unknown) => {
      if (key !== currentKey.current) return;
      pages.current.delete(page);
      setError(asApiError(e));
    });
  };

  // A new query or sort: forget the old pages, go back to the top, ask for the first page.
  const scroll = useRef(new ScaledScroll());
  const scroller = useRef<HTMLDivElement>(null);
  const head = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, offset: 0, height: 0 });
  useEffect(() => {
    currentKey.current = queryKey;
    pages.current = new Map();
    setError(undefined);
    const p = scroll.current.reset();
    if (scroller.current) scroller.current.scrollTop = p.setScrollTop ?? 0;
    setView((v) => ({ ...v, top: 0, offset: 0 }));
    load(0, queryKey);
  }, [queryKey]);

  const total = busy ? 0 : (loaded?.total ?? 0);
  // Fit the scroll mapping to the list and the visible height (the header is sticky inside the scroller).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => {
      const height = el.clientHeight - (head.current?.offsetHeight ?? 0);
      scroll.current.configure(total, ROW_HEIGHT, height);
      const p = scroll.current.onScroll(el.scrollTop);
      setView({ top: p.virtualTop, offset: p.offset, height });
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [total]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const p = scroll.current.onScroll(el.scrollTop);
    if (p.setScrollTop !== undefined) el.scrollTop = p.setScrollTop;
    setView((v) => ({ ...v, top: p.virtualTop, offset: p.offset }));
  };

  // Home and End jump at once. The browser's own keyboard scroll is animated, and a page boundary
  // of the scaled scroll crossed on the way sets scrollTop under the animation, which stops it
  // short of the end (seen once under load: Home from the middle of 2M rows never reached row 1).
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const el = scroller.current;
    if (!el || e.target !== el || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    el.scrollTop = e.key === 'Home' ? 0 : el.scrollHeight;
  };

  const first = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);
  useEffect(() => {
    if (busy) return;
    for (let p = Math.floor(first / PAGE); p <= Math.floor(Math.max(first, last - 1) / PAGE); p++) load(p, queryKey);
  });

  const columns = loaded?.columns ?? [];
  const sortable = loaded?.sortable ?? [];
  const allColumns = useMemo(() => ['row', ...(query.jobId ? [] : ['job']), ...(query.jobId || (query.model && query.version) ? [] : ['model']), ...columns], [columns, query.jobId, query.model, query.version]);
  const widths = allColumns.map(widthOf);
  const minWidth = `${widths.reduce((a, b) => a + b, 0)}rem`;
  // fixed tracks, then an empty one that takes the rest: a wide grid never stretches a column away from its header
  const template = `${widths.map((w) => `${w}rem`).join(' ')} 1fr`;

  const toggle = (c: string) => {
    setSort((s) => (s?.column !== c ? { column: c, descending: c.startsWith('p_') || c === 'value' } : s.descending ? { column: c, descending: false } : undefined));
  };

  const rows = [];
  if (!busy) {
    for (let i = first; i < last; i++) {
      const page = pages.current.get(Math.floor(i / PAGE));
      const row = Array.isArray(page) ? page[i % PAGE] : undefined;
      rows.push(
        <div key={i} role="row" aria-rowindex={i + 2} className={`grid-row ${i % 2 ? 'odd' : ''}`}
          style={{ gridTemplateColumns: template, minWidth, top: i * ROW_HEIGHT - view.offset, height: ROW_HEIGHT }}>
          {row ? allColumns.map((c) => {
            const v = c === 'row' ? row.row : c === 'job' ? row.jobId : c === 'model' ? `${row.model}@${row.version}` : row.values[c];
            const text = c === 'row' ? int(row.row) : cell(v);
            return <div key={c} role="cell" className={`grid-cell ${typeof v === 'number' ? 'num' : ''} ${c === 'job' ? 'mono' : ''}`} title={text}>{text}</div>;
          }) : <div role="cell" className="grid-cell muted">…</div>}
        </div>,
      );
    }
  }

  const describe = sort ? `sorted by ${sort.column} ${sort.descending ? 'descending' : 'ascending'}` : 'in log order';
  return (
    <div className="ptable">
      <ErrorBox error={error} title="Could not load predictions" />
      <p className="muted ptable-status" aria-live="polite" data-testid="pred-status" data-busy={busy ? 'true' : 'false'}>
        {busy
          ? <><span className="spinner" aria-hidden="true" /> {loaded === undefined ? 'Loading predictions…' : sort && loaded.key !== queryKey ? `Sorting${loaded.total ? ` ${int(loaded.total)}` : ''} predictions by ${sort.column}…` : 'Loading predictions…'}</>
          : error ? '' : <span><span data-testid="pred-total">{int(total)}</span> predictions, {describe}</span>}
      </p>
      <div className="grid-frame">
      {busy && <div className="grid-busy" data-testid="pred-busy" style={{ top: head.current?.offsetHeight ?? 0 }}><span className="spinner" aria-hidden="true" /> {sort ? 'Sorting…' : 'Loading…'}</div>}
      <div ref={scroller} className="grid" role="table" aria-label={label} aria-rowcount={total + 1} aria-busy={busy} tabIndex={0} onScroll={onScroll} onKeyDown={onKeyDown}>
        <div ref={head} className="grid-head" role="rowgroup" style={{ minWidth }}>
          <div className="grid-row" role="row" aria-rowindex={1} style={{ gridTemplateColumns: template, minWidth }}>
            {allColumns.map((c) => {
              const can = sortable.includes(c);
              const dir = sort?.column === c ? (sort.descending ? 'descending' : 'ascending') : 'none';
              return (
                <div key={c} role="columnheader" aria-sort={dir} className={`grid-cell ${c === 'row' || c === 'value' || c.startsWith('p_') ? 'num' : ''}`}>
                  {can ? (
                    <button type="button" className="sort" onClick={() => toggle(c)} title={`Sort by ${c}`}>
                      {c}<span aria-hidden="true" className="sort-mark">{dir === 'ascending' ? '▲' : dir === 'descending' ? '▼' : ''}</span>
                    </button>
                  ) : c}
                </div>
              );
            })}
          </div>
        </div>
        <div className="grid-body" role="rowgroup" style={{ height: busy ? view.height : scroll.current.h, minWidth }}>
          {rows}
        </div>
      </div>
      </div>
    </div>
  );
}
