// The prediction preview: a virtualized grid over the whole query (100k+ rows), pages fetched from
// the store as they scroll into view, sortable by any output column (sorted by the core).
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Params, PredictionRow } from '../../../src/api/common/contract.ts';
import type { ApiError } from '../client/error.ts';
import { cell, int } from '../format.ts';
import { asApiError, useClient } from '../state.tsx';
import { ErrorBox } from './common.tsx';

type Query = Omit<Params<'predictions.page'>, 'offset' | 'limit' | 'sort'>;
const PAGE = 200;
const ROW_HEIGHT = 32;

export function PredictionTable({ query, label }: { query: Query; label: string }) {
  const client = useClient();
  const [sort, setSort] = useState<{ column: string; descending: boolean } | undefined>();
  const [total, setTotal] = useState<number | undefined>();
  const [columns, setColumns] = useState<string[]>([]);
  const [sortable, setSortable] = useState<string[]>([]);
  const [error, setError] = useState<ApiError | undefined>();
  const pages = useRef(new Map<number, PredictionRow[] | 'loading'>());
  const [, setVersion] = useState(0);
  const queryKey = JSON.stringify([query, sort]);

  const load = (page: number, key: string) => {
    if (pages.current.has(page)) return;
    pages.current.set(page, 'loading');
    client.call('predictions.page', { ...query, ...(sort ? { sort } : {}), offset: page * PAGE, limit: PAGE }).then((r) => {
      if (key !== currentKey.current) return; // a newer query or sort replaced this one
      pages.current.set(page, r.rows);
      if (page === 0 || total === undefined) { setTotal(r.total); setColumns(r.columns); setSortable(r.sortable); }
      setVersion((v) => v + 1);
    }, (e: unknown) => { pages.current.delete(page); setError(asApiError(e)); });
  };
  const currentKey = useRef(queryKey);

  useEffect(() => {
    currentKey.current = queryKey;
    pages.current = new Map();
    setError(undefined);
    load(0, queryKey);
  }, [queryKey]);

  const scroller = useRef<HTMLDivElement>(null);
  const count = total ?? 0;
  const virtualizer = useVirtualizer({ count, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = virtualizer.getVirtualItems();

  useEffect(() => {
    const wanted = new Set(items.map((i) => Math.floor(i.index / PAGE)));
    for (const p of wanted) load(p, queryKey);
  });

  const allColumns = useMemo(() => ['row', ...columns], [columns]);
  const template = `minmax(5rem, 0.6fr) ${columns.map((c) => (c === 'label' || c === 'id' ? 'minmax(7rem, 1fr)' : 'minmax(6rem, 1fr)')).join(' ')}`;

  const toggle = (c: string) => {
    setSort((s) => (s?.column !== c ? { column: c, descending: c.startsWith('p_') || c === 'value' } : s.descending ? { column: c, descending: false } : undefined));
  };

  return (
    <div className="ptable">
      <ErrorBox error={error} title="Could not load predictions" />
      <p className="muted" aria-live="polite">
        {total === undefined ? 'Loading predictions…' : <><span data-testid="pred-total">{int(total)}</span> predictions{sort ? `, sorted by ${sort.column} ${sort.descending ? 'descending' : 'ascending'}` : ', in log order'}</>}
      </p>
      <div className="grid" role="table" aria-label={label} aria-rowcount={count + 1}>
        <div className="grid-head" role="rowgroup">
          <div className="grid-row" role="row" aria-rowindex={1} style={{ gridTemplateColumns: template }}>
            {allColumns.map((c) => {
              const can = sortable.includes(c);
              const dir = sort?.column === c ? (sort.descending ? 'descending' : 'ascending') : 'none';
              return (
                <div key={c} role="columnheader" aria-sort={dir} className="grid-cell">
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
        <div ref={scroller} className="grid-body" role="rowgroup" tabIndex={0} aria-label={`${label}: scroll with the arrow keys`}>
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((it) => {
              const page = pages.current.get(Math.floor(it.index / PAGE));
              const row = Array.isArray(page) ? page[it.index % PAGE] : undefined;
              return (
                <div key={it.key} role="row" aria-rowindex={it.index + 2} className={`grid-row ${it.index % 2 ? 'odd' : ''}`}
                  style={{ gridTemplateColumns: template, position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${it.start}px)` }}>
                  {row ? (
                    <>
                      <div role="cell" className="grid-cell num">{row.row}</div>
                      {columns.map((c) => <div key={c} role="cell" className={`grid-cell ${typeof row.values[c] === 'number' ? 'num' : ''}`}>{cell(row.values[c])}</div>)}
                    </>
                  ) : <div role="cell" className="grid-cell muted">…</div>}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}
