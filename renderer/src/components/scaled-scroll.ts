// Virtual scrolling past the browser's element-height limit. Browsers cap an element's height
// (Chromium at 2^25 px ≈ 33.5 million: with 32 px rows the list ends near row 1,048,575; Firefox
// lower), so a 2-million-row log cannot be one tall element. The scrolled element is at most
// MAX_SCROLL_PX tall, and the full list ("virtual" pixels) is mapped onto it the way SlickGrid does:
// it is cut into pages of ph physical pixels; on page p every row is drawn `offset = p × cj` pixels
// higher, so within a page one pixel scrolled is one pixel of the list (wheel and arrow keys move
// row by row), and crossing a page boundary moves the scrollbar back by cj — invisible to the user.
// A jump (dragging the thumb, Page Down on a slow machine, Home/End) maps the thumb's position onto
// the whole list, so the last row is always reachable. Pure: no DOM.

/** Under every engine's limit (Chromium ~33.5 M px, Firefox ~17.9 M px). */
export const MAX_SCROLL_PX = 8_000_000;

export interface Placement {
  /** top of the visible part of the list, in list ("virtual") pixels */
  virtualTop: number;
  /** pixels every row is drawn higher than rowTop × rowHeight */
  offset: number;
  /** set the scroll element's scrollTop to this (the page changed), when present */
  setScrollTop?: number;
}

export class ScaledScroll {
  /** list height (virtual px), the scrolled element's height (physical px), page height, pages, jump per page */
  th = 0; h = 0; ph = 0; n = 1; cj = 0;
  #viewport = 0;
  #page = 0;
  #offset = 0;
  #prevScrollTop = 0;
  readonly #max: number;

  constructor(maxPx = MAX_SCROLL_PX) { this.#max = maxPx; }

  /** Set the list size and the viewport height (the rows' visible height); keeps the page when it still exists. */
  configure(rows: number, rowHeight: number, viewport: number): void {
    this.#viewport = Math.max(0, viewport);
    this.th = Math.max(rows * rowHeight, this.#viewport);
    if (this.th <= this.#max) {
      this.h = this.ph = this.th;
      this.n = 1;
      this.cj = 0;
    } else {
      this.h = this.#max;
      this.ph = this.h / 100;
      this.n = Math.floor(this.th / this.ph);
      this.cj = (this.th - this.h) / (this.n - 1);
    }
    this.#page = Math.min(this.#page, this.n - 1);
    this.#offset = this.#page * this.cj;
  }

  get offset(): number { return this.#offset; }
  /** the largest scrollTop of the element */
  get maxScrollTop(): number { return Math.max(0, this.h - this.#viewport); }

  /** Forget the position (a new query): back to the top. */
  reset(): Placement {
    this.#page = 0;
    this.#offset = 0;
    this.#prevScrollTop = 0;
    return { virtualTop: 0, offset: 0, setScrollTop: 0 };
  }

  /** The element scrolled to `scrollTop`: where the list is now (and maybe a new scrollTop to set). */
  onScroll(scrollTop: number): Placement {
    const dist = Math.abs(scrollTop - this.#prevScrollTop);
    if (dist === 0) return { virtualTop: scrollTop + this.#offset, offset: this.#offset };
    this.#prevScrollTop = scrollTop;
    // the ends of the scrollbar are the ends of the list, however the user got there
    if (scrollTop <= 0) return this.#at(0, 0);
    if (scrollTop >= this.maxScrollTop && this.maxScrollTop > 0) return this.#at(this.n - 1, scrollTop);
    if (dist < this.#viewport) return this.scrollTo(scrollTop + this.#offset);
    // a jump: the thumb's position stands for the same fraction of the whole list
    const page = this.h <= this.#viewport ? 0 : Math.min(this.n - 1, Math.floor((scrollTop * ((this.th - this.#viewport) / (this.h - this.#viewport))) / this.ph));
    return this.#at(page, scrollTop);
  }

  /** Show the list from virtual pixel `y` (clamped to the list). */
  scrollTo(y: number): Placement {
    const v = Math.min(Math.max(0, y), Math.max(0, this.th - this.#viewport));
    this.#page = Math.min(this.n - 1, Math.floor(v / this.ph));
    this.#offset = this.#page * this.cj;
    const top = Math.min(Math.floor(this.maxScrollTop), Math.max(0, Math.round(v - this.#offset))); // browsers keep whole pixels
    const placement: Placement = { virtualTop: top + this.#offset, offset: this.#offset };
    if (top !== this.#prevScrollTop) placement.setScrollTop = top;
    this.#prevScrollTop = top;
    return placement;
  }

  #at(page: number, scrollTop: number): Placement {
    this.#page = page;
    this.#offset = page * this.cj;
    return { virtualTop: scrollTop + this.#offset, offset: this.#offset };
  }
}
