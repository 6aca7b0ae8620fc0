// The runs table's columns: parameters and final metrics, with the server's orderBy key where sortable.
import type { RunSummary } from '../../shared/api.js';
import { fmtAgo, fmtCompact, fmtNum } from './format.js';

export interface RunColumn {
  key: string;
  label: string;
  width: number;
  /** runs.list orderBy key; absent = not sortable. */
  sort?: string;
  num?: boolean;
  title?: string;
  text?: (r: RunSummary) => string;
}

export const RUN_COLUMNS: RunColumn[] = [
  { key: 'status', label: 'status', width: 96, sort: 'status' },
  { key: 'name', label: 'run', width: 210, sort: 'name', text: (r) => r.name },
  { key: 'label', label: 'activation', width: 170, sort: 'label', text: (r) => r.label },
  { key: 'dataset', label: 'dataset', width: 118, sort: 'dataset', text: (r) => r.dataset },
  { key: 'depth', label: 'depth', width: 58, sort: 'depth', num: true, text: (r) => String(r.depth) },
  { key: 'width', label: 'width', width: 58, sort: 'width', num: true, text: (r) => String(r.width) },
  { key: 'degree', label: 'n', width: 42, sort: 'degree', num: true, title: 'Bernstein degree', text: (r) => (r.degree === null ? '—' : String(r.degree)) },
  { key: 'eps', label: 'ε', width: 58, sort: 'eps', num: true, text: (r) => fmtNum(r.eps, 3) },
  { key: 'lr', label: 'lr', width: 68, sort: 'lr', num: true, text: (r) => fmtNum(r.lr, 3) },
  { key: 'batchSize', label: 'batch', width: 58, sort: 'batchSize', num: true, text: (r) => String(r.batchSize) },
  { key: 'paramCount', label: 'params', width: 70, sort: 'paramCount', num: true, text: (r) => fmtCompact(r.paramCount) },
  { key: 'progress', label: 'progress', width: 150, sort: 'epochsDone' },
  { key: 'train_loss', label: 'train loss', width: 84, sort: 'final.train_loss', num: true, text: (r) => fmtNum(r.final.train_loss) },
  { key: 'test_loss', label: 'test loss', width: 84, sort: 'final.test_loss', num: true, text: (r) => fmtNum(r.final.test_loss) },
  { key: 'test_acc', label: 'test acc', width: 76, sort: 'final.test_acc', num: true, text: (r) => (r.final.test_acc === null ? '—' : (r.final.test_acc * 100).toFixed(2) + '%') },
  { key: 'backend', label: 'backend', width: 74, text: (r) => r.backend ?? '—' },
  { key: 'tags', label: 'tags', width: 140 },
  { key: 'createdAt', label: 'created', width: 84, sort: 'createdAt', num: true, text: (r) => fmtAgo(r.createdAt) },
];

export const gridTemplate = (cols: RunColumn[], lead = 34): string => `${lead}px ${cols.map((c) => `${c.width}px`).join(' ')}`;
