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
