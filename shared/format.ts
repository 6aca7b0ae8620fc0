// The one number formatter: a metric prints the same in the CLI's tables, the app and the HTML reports.

/** What a missing value (null, undefined) prints as. */
export const MISSING = '—';

/**
 * `digits` significant digits; exponent form below 1e-3 and from 1e5 on (1.234e-4, 2.5e+6); integers exact
 * (counts, epochs, seeds); NaN as `NaN` (a diverged loss is a value, not a gap); ±∞ as `∞`/`−∞`.
 */
export function formatNumber(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return MISSING;
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) return String(v);
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(Math.max(0, digits - 1));
  return String(Number(v.toPrecision(digits)));
}

/**
 * A fraction as a percent with `digits` decimals (0.5812 → "58.12%" at 2); a non-zero value too small for
 * those decimals keeps significant digits instead of printing as zero (0.00004 → "0.004%").
 */
export function formatPercent(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined) return MISSING;
  if (!Number.isFinite(v)) return formatNumber(v);
  const p = v * 100;
  if (p !== 0 && Math.abs(p) < 10 ** -digits) return `${formatNumber(p, 2)}%`;
  return `${p.toFixed(digits)}%`;
}

/** Metrics that are fractions people read as percentages, with the decimals each prints with. */
const PERCENT_METRICS: Readonly<Record<string, number>> = {
  train_acc: 2,
  test_acc: 2,
  dead_ratio: 1,
  dead_ratio_epoch: 1,
  clipped_frac: 2,
};

/**
 * A named metric's value as every surface prints it (CLI tables and progress lines, the app's tables and
 * tiles, the HTML reports): accuracies and ratios as percentages, everything else through formatNumber.
 */
export function formatMetric(metric: string, v: number | null | undefined): string {
  const digits = PERCENT_METRICS[metric];
  return digits === undefined ? formatNumber(v) : formatPercent(v, digits);
}
