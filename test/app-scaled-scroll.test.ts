// The prediction grid's scroll mapping (renderer/src/components/scaled-scroll.ts): every row of a
// list far taller than a browser element may be is reachable, wheel/arrow scrolling moves the list
// pixel for pixel, and the scrolled element never exceeds the cap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SCROLL_PX, ScaledScroll } from '../renderer/src/components/scaled-scroll.ts';

const ROW = 32;
const VIEW = 480;

test('a short list maps one to one', () => {
  const s = new ScaledScroll();
  s.configure(1000, ROW, VIEW);
  assert.equal(s.h, 32_000);
  assert.equal(s.n, 1);
  for (const top of [10, 500, 31_520]) assert.deepEqual(s.onScroll(top), { virtualTop: top, offset: 0 });
});

test('2 million rows: the element stays under the cap, and the scrollbar\'s end is the last row', () => {
  const rows = 2_000_000;
  const s = new ScaledScroll();
  s.configure(rows, ROW, VIEW);
  assert.ok(s.h <= MAX_SCROLL_PX && s.h < 33_554_432, `element height ${s.h}`);
  assert.equal(s.th, rows * ROW);
  const end = s.onScroll(s.maxScrollTop); // End key, or the thumb dragged to the bottom
  assert.equal(end.virtualTop + VIEW, rows * ROW, 'the list\'s bottom is in view');
  assert.equal(Math.floor((end.virtualTop + VIEW - 1) / ROW), rows - 1, 'the last row (index 1,999,999) is visible');
  const home = s.onScroll(0);
  assert.deepEqual(home, { virtualTop: 0, offset: 0 });
});

test('a jump lands in proportion; the middle of the thumb is the middle of the list', () => {
  const s = new ScaledScroll();
  s.configure(2_000_000, ROW, VIEW);
  const mid = s.onScroll(Math.round(s.maxScrollTop / 2));
  const fraction = mid.virtualTop / (s.th - VIEW);
  assert.ok(Math.abs(fraction - 0.5) < 0.01, `half-way thumb shows ${fraction} of the list`);
});

test('small steps move the list pixel for pixel across page boundaries, and back', () => {
  const s = new ScaledScroll();
  s.configure(2_000_000, ROW, VIEW);
  let scrollTop = 0;
  let virtual = 0;
  const step = (d: number) => {
    const p = s.onScroll(scrollTop + d);
    scrollTop = p.setScrollTop ?? scrollTop + d;
    assert.ok(scrollTop >= 0 && scrollTop <= s.maxScrollTop, `scrollTop ${scrollTop} inside the element`);
    assert.ok(Math.abs(p.virtualTop - (virtual + d)) < 1, `the list moved as far as the wheel (${p.virtualTop - virtual} for ${d})`);
    assert.equal(p.virtualTop - p.offset, scrollTop, 'rows are drawn where the element shows them');
    virtual = p.virtualTop;
  };
  // start just before the first page boundary, then cross several
  const start = s.scrollTo(s.ph - 200);
  scrollTop = start.setScrollTop!;
  virtual = start.virtualTop;
  let pagesSeen = new Set<number>();
  for (let i = 0; i < 2000; i++) { step(40); pagesSeen.add(s.offset); }
  assert.ok(pagesSeen.size > 1, 'crossed into another page');
  pagesSeen = new Set();
  for (let i = 0; i < 2000; i++) { step(-40); pagesSeen.add(s.offset); }
  assert.ok(pagesSeen.size > 1, 'and back');
});

test('every row can be scrolled into view by scrollTo (sampled across the whole list)', () => {
  const rows = 5_000_000;
  const s = new ScaledScroll();
  s.configure(rows, ROW, VIEW);
  for (let r = 0; r < rows; r += 99_991) {
    const p = s.scrollTo(r * ROW);
    const top = p.setScrollTop ?? s.onScroll(p.virtualTop - p.offset).virtualTop - p.offset;
    assert.ok(top >= 0 && top <= s.maxScrollTop, `row ${r}: scrollTop ${top}`);
    assert.equal(Math.floor((p.virtualTop + 1) / ROW), r, `row ${r} at the top`);
  }
  const last = s.scrollTo(rows * ROW);
  assert.equal(Math.floor((last.virtualTop + VIEW - 1) / ROW), rows - 1);
});
