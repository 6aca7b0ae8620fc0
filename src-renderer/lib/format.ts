// Number and time formatting for dense tables (monospace, tabular figures).
import { formatMetric, formatNumber, formatPercent } from '../../shared/format.js';

/** Numbers and named metrics: the shared formatters, so the app prints what the CLI and the reports print. */
export const fmtNum = formatNumber;
export const fmtMetric = formatMetric;
export const fmtPct = formatPercent;

export function fmtInt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return v.toLocaleString('en-US');
}

/** 1234567 → 1.23M */
export function fmtCompact(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + 'B';
  if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  return String(v);
}

export function fmtBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1024 ** 2) return `${(b / 1024).toFixed(1)} KB`;
  if (b < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(1)} MB`;
  return `${(b / 1024 ** 3).toFixed(2)} GB`;
}

/** ISO time → "2m ago", "3h ago", or a date. */
export function fmtAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, (now - t) / 1000);
  if (s < 60) return `${Math.floor(s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return new Date(t).toISOString().slice(0, 10);
}

export function fmtDuration(startIso: string | null, endIso: string | null, now = Date.now()): string {
  if (!startIso) return '—';
  const s = ((endIso ? Date.parse(endIso) : now) - Date.parse(startIso)) / 1000;
  if (!Number.isFinite(s) || s < 0) return '—';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.floor(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** Ten distinguishable colours for run series (Tableau 10, slightly deepened). */
export const RUN_COLORS = [
  '#1f77b4',
  '#e8600c',
  '#2a9d3a',
  '#d62728',
  '#8c5bbf',
  '#8c564b',
  '#d45fb0',
  '#6b6b6b',
  '#a0a81c',
  '#15a3b8',
];
/** The first colours from the palette; after it, golden-angle hues in two lightness bands: no repeats at 50 runs. */
export const runColor = (i: number): string => {
  if (i < RUN_COLORS.length) return RUN_COLORS[i]!;
  const k = i - RUN_COLORS.length;
  return `hsl(${Math.round((k * 137.508 + 20) % 360)}, ${k % 2 ? 55 : 70}%, ${k % 3 === 2 ? 32 : 44}%)`;
};
