// Compare curves: runs aligned on the union of epochs; bucketed series carry min/max for the shaded band.
import { describe, expect, it } from 'vitest';
import { alignSeries } from '../src-renderer/lib/series.js';

describe('alignSeries', () => {
  it('aligns runs on the union of epochs with nulls where one is missing; no band when unbucketed', () => {
    const a = alignSeries(
      {
        r1: [
          { epoch: 1, min: 1, max: 1, last: 1 },
          { epoch: 2, min: 0.5, max: 0.5, last: 0.5 },
        ],
        r2: [{ epoch: 2, min: 3, max: 3, last: 3 }],
      },
      ['r1', 'r2'],
    );
    expect(a.x).toEqual([1, 2]);
    expect(a.ys).toEqual([
      [1, 0.5],
      [null, 3],
    ]);
    expect(a.bucketed).toBe(false);
  });

  it("keeps each bucket's min and max for the band, and drops non-finite values", () => {
    const a = alignSeries(
      {
        r1: [
          { epoch: 50, min: 0.2, max: 0.9, last: 0.4 },
          { epoch: 100, min: 0.1, max: Infinity, last: NaN },
        ],
      },
      ['r1'],
    );
    expect(a.bucketed).toBe(true);
    expect(a.mins).toEqual([[0.2, 0.1]]);
    expect(a.maxs).toEqual([[0.9, null]]);
    expect(a.ys).toEqual([[0.4, null]]);
  });
});
