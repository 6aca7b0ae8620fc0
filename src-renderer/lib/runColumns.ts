// The runs table's columns: parameters and final metrics, with the server's orderBy key where sortable.
import type { RunSummary } from '../../shared/api.js';
import { fmtAgo, fmtCompact, fmtMetric, fmtNum } from './format.js';

export interface RunColumn {
  key: string;
  label: string;
  width: number;
  /** runs.list orderBy key; absent = not sortable. */
  sort?: string;
  num?: boolean;
  title?: string;
  /** Always shown, and stays in view while the table scrolls right. */
  pinned?: boolean;
  text?: (r: RunSummary) => string;
}

export const RUN_COLUMNS: RunColumn[] = [
  // The run's name comes first and stays pinned while the table scrolls right (RunsTable).
  { key: 'name', label: 'run', width: 184, sort: 'name', pinned: true, text: (r) => r.name },
  { key: 'status', label: 'status', width: 92, sort: 'status' },
  { key: 'label', label: 'activation', width: 166, sort: 'label', text: (r) => r.label },
  { key: 'progress', label: 'epochs', width: 124, sort: 'epochsDone' },
  {
    key: 'test_acc',
    label: 'test acc',
    width: 74,
    sort: 'final.test_acc',
    num: true,
    text: (r) => fmtMetric('test_acc', r.final.test_acc),
  },
  {
    key: 'test_loss',
    label: 'test loss',
    width: 78,
    sort: 'final.test_loss',
    num: true,
    text: (r) => fmtNum(r.final.test_loss),
  },
  {
    key: 'train_loss',
    label: 'train loss',
    width: 80,
    sort: 'final.train_loss',
    num: true,
    text: (r) => fmtNum(r.final.train_loss),
  },
  { key: 'depth', label: 'depth', width: 54, sort: 'depth', num: true, text: (r) => String(r.depth) },
  { key: 'width', label: 'width', width: 54, sort: 'width', num: true, text: (r) => String(r.width) },
  {
    key: 'degree',
    label: 'n',
    width: 38,
    sort: 'degree',
    num: true,
    title: 'Bernstein degree',
    text: (r) => (r.degree === null ? '—' : String(r.degree)),
  },
  { key: 'eps', label: 'ε', width: 52, sort: 'eps', num: true, text: (r) => fmtNum(r.eps, 3) },
  {
    key: 'seed',
    label: 'seed',
    width: 46,
    sort: 'seed',
    num: true,
    title: 'Random seed (group seeds in Compare)',
    text: (r) => (r.seed === undefined ? '—' : String(r.seed)),
  },
  { key: 'lr', label: 'lr', width: 62, sort: 'lr', num: true, text: (r) => fmtNum(r.lr, 3) },
  { key: 'batchSize', label: 'batch', width: 54, sort: 'batchSize', num: true, text: (r) => String(r.batchSize) },
  {
    key: 'paramCount',
    label: 'params',
    width: 64,
    sort: 'paramCount',
    num: true,
    text: (r) => fmtCompact(r.paramCount),
  },
  { key: 'dataset', label: 'dataset', width: 110, sort: 'dataset', text: (r) => r.dataset },
  { key: 'tags', label: 'tags', width: 120 },
  { key: 'backend', label: 'backend', width: 64, sort: 'backend', text: (r) => r.backend ?? '—' },
  { key: 'createdAt', label: 'created', width: 76, sort: 'createdAt', num: true, text: (r) => fmtAgo(r.createdAt) },
];

/** The checkbox column's width (px), left of the first column. */
export const LEAD_WIDTH = 34;

export const gridTemplate = (cols: RunColumn[], lead = LEAD_WIDTH): string =>
  `${lead}px ${cols.map((c) => `${c.width}px`).join(' ')}`;

/** Text width in px at the table's font; without a canvas (tests), an estimate of 7.2 px a character. */
export type MeasureText = (text: string) => number;
export const estimateText: MeasureText = (t) => t.length * 7.2;

/**
 * A name column wide enough for the longest loaded name (its cell's padding included), between the column's own
 * width and `max`: names are not cut until they are very long, and then the tooltip has them.
 */
export function nameWidth(
  names: Iterable<string>,
  min: number,
  max = 480,
  measure: MeasureText = estimateText,
): number {
  // Measure only the longest few by length: the widest text is among them, and measuring is not free.
  const longest = [...names].sort((a, b) => b.length - a.length).slice(0, 12);
  const widest = longest.reduce((w, n) => Math.max(w, measure(n)), 0);
  return Math.max(min, Math.min(max, Math.ceil(widest + 24)));
}
