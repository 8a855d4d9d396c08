// Do two model-name globs (`*` any run, `?` one character) share a name? Two publishers whose
// globs overlap could both sign the same model name — one team could then burn the other's version
// numbers or shadow its models — so the hub refuses such delegations. Exact: decides whether the
// two patterns' languages intersect. Pure.

export function globsOverlap(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const seen = memo.get(key);
    if (seen !== undefined) return seen;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (i < a.length && a[i] === '*') r = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (j < b.length && b[j] === '*') r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else if (i === a.length || j === b.length) r = false;
    else r = (a[i] === b[j] || a[i] === '?' || b[j] === '?') && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** A name both globs match, for messages (undefined when they do not overlap). */
export function overlapExample(a: string, b: string): string | undefined {
  if (!globsOverlap(a, b)) return undefined;
  // Walk the same recursion, preferring the shortest witness; `?` and `*` become "x".
  const memo = new Map<number, string | null>();
  // a star consumed this character of the other pattern (another star consumes nothing)
  const prefix = (c: string, rest: string | null): string | null => (rest === null ? null : (c === '*' ? '' : c === '?' ? 'x' : c) + rest);
  const go = (i: number, j: number): string | null => {
    const key = i * (b.length + 1) + j;
    if (memo.has(key)) return memo.get(key)!;
    memo.set(key, null); // cycle guard (star against star)
    let r: string | null = null;
    if (i === a.length && j === b.length) r = '';
    else if (i < a.length && a[i] === '*') r = go(i + 1, j) ?? (j < b.length ? prefix(b[j], go(i, j + 1)) : null);
    else if (j < b.length && b[j] === '*') r = go(i, j + 1) ?? (i < a.length ? prefix(a[i], go(i + 1, j)) : null);
    else if (i < a.length && j < b.length && (a[i] === b[j] || a[i] === '?' || b[j] === '?')) {
      const rest = go(i + 1, j + 1);
      r = rest === null ? null : (a[i] === '?' ? (b[j] === '?' ? 'x' : b[j]) : a[i]) + rest;
    }
    memo.set(key, r);
    return r;
  };
  return go(0, 0) ?? undefined;
}
