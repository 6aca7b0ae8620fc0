// One number formatter: the CLI's tables, the app and the HTML reports print a metric the same way.
import { describe, expect, it } from 'vitest';
import { formatMetric, formatNumber, formatPercent, MISSING } from '../shared/format.js';
import { fmt } from '../src-main/cli/output.js';
import { epochLine } from '../src-main/cli/progress.js';
import { num } from '../src-main/report/html.js';
import { fmtMetric, fmtNum } from '../src-renderer/lib/format.js';
import { RUN_COLUMNS } from '../src-renderer/lib/runColumns.js';

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

describe('formatMetric: one named metric prints alike on every surface', () => {
  it('accuracies and ratios as percentages, other metrics as numbers', () => {
    expect(formatMetric('test_acc', 0.58123)).toBe('58.12%');
    expect(formatMetric('dead_ratio', 0.125)).toBe('12.5%');
    expect(formatMetric('clipped_frac', 0.00002)).toBe('0.002%'); // a non-zero value too small for 2 decimals stays non-zero
    expect(formatMetric('clipped_frac', 4e-7)).toBe('4.0e-5%');
    expect(formatMetric('test_acc', null)).toBe(MISSING);
    expect(formatMetric('test_loss', 0.693147)).toBe('0.6931');
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(NaN)).toBe('NaN');
  });

  it('the CLI runs table, its progress line, and the app runs table print test_acc 0.58123 as 58.12%', () => {
    const acc = 0.58123;
    const line = epochLine(
      {
        epoch: 2,
        metrics: { train_loss: 0.5, test_loss: 0.6, test_acc: acc, dead_ratio: 0.25, mag1: 1, epoch_time_s: 1 },
        layers: [],
      },
      5,
    );
    expect(line).toContain('test_acc 58.12%');
    expect(line).toContain('dead_eval 25.0%');
    const col = RUN_COLUMNS.find((c) => c.key === 'test_acc')!;
    expect(col.text!({ final: { test_acc: acc } } as never)).toBe('58.12%');
    expect(fmtMetric('test_acc', acc)).toBe('58.12%');
  });
});
