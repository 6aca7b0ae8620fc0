// One number formatter: the CLI's tables, the app and the HTML reports print a metric the same way.
import { describe, expect, it } from 'vitest';
import { formatNumber, MISSING } from '../shared/format.js';
import { fmt } from '../src-main/cli/output.js';
import { num } from '../src-main/report/html.js';
import { fmtNum } from '../src-renderer/lib/format.js';

const CASES: [number | null, string][] = [
  [null, MISSING],
  [0, '0'],
  [42, '42'],
  [123456, '123456'], // integers stay exact
  [0.693147, '0.6931'],
  [-1.23456, '-1.235'],
  [12345.678, '12350'],
  [0.00123, '0.00123'],
  [0.000123456, '1.235e-4'],
  [123456.7, '1.235e+5'],
  [NaN, 'NaN'],
  [Infinity, '∞'],
  [-Infinity, '−∞'],
];

describe('formatNumber', () => {
  it.each(CASES)('%s → %s in the CLI, the app and the reports', (v, out) => {
    expect(formatNumber(v)).toBe(out);
    expect(fmt(v)).toBe(out);
    expect(fmtNum(v)).toBe(out);
    expect(num(v)).toBe(out);
  });

  it('digits are significant digits in both forms', () => {
    expect(formatNumber(0.123456, 3)).toBe('0.123');
    expect(formatNumber(0.0000123456, 3)).toBe('1.23e-5');
    expect(formatNumber(2.5, 1)).toBe('3');
  });
});
