// The runs table's own small virtual scroller: which rows to render, and which server pages they need.

export interface VisibleRange {
  start: number; // first row index to render
  end: number; // one past the last
  padTop: number; // px above the first rendered row
  padBottom: number;
}

export function visibleRange(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  total: number,
  overscan = 8,
): VisibleRange {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  const start = Math.min(first, total);
  const end = Math.max(start, last);
  return { start, end, padTop: start * rowHeight, padBottom: Math.max(0, (total - end) * rowHeight) };
}

/** Page indices covering rows [start, end). */
export function pagesFor(start: number, end: number, pageSize: number): number[] {
  if (end <= start) return [];
  const out: number[] = [];
  for (let p = Math.floor(start / pageSize); p <= Math.floor((end - 1) / pageSize); p++) out.push(p);
  return out;
}
