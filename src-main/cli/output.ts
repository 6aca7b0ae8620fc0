// How the CLI prints: tables for people, JSON for machines, one clear line for errors.
import Table from 'cli-table3';
import { formatNumber, MISSING } from '../../shared/format.js';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? undefined : v), 2) + '\n');
}

export function fmt(v: unknown): string {
  if (v === null || v === undefined) return MISSING;
  if (typeof v === 'number') return formatNumber(v);
  if (Array.isArray(v)) return v.map(fmt).join(',');
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}=${fmt(x)}`).join(' ');
  return String(v);
}

export function table(head: string[], rows: unknown[][]): string {
  const t = new Table({ head, style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  for (const r of rows) t.push(r.map(fmt));
  return t.toString();
}

export function printTable(head: string[], rows: unknown[][]): void {
  process.stdout.write(table(head, rows) + '\n');
}
