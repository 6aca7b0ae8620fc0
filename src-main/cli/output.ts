// How the CLI prints: tables for people, JSON for machines, one clear line for errors.
import Table from 'cli-table3';
import { formatNumber, MISSING } from '../../shared/format.js';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? undefined : v), 2) + '\n');
}

/**
 * Control characters (C0, DEL, C1) and bidi controls, removed from user text (run and sweep names, tags,
 * messages) before it reaches a terminal: a name cannot move the cursor, recolour, clear the screen, set the
 * window title or reorder what is printed around it.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TERMINAL_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
export function termText(s: string): string {
  return s.replace(TERMINAL_CONTROLS, '');
}

export function fmt(v: unknown): string {
  if (v === null || v === undefined) return MISSING;
  if (typeof v === 'number') return formatNumber(v);
  if (Array.isArray(v)) return v.map(fmt).join(',');
  if (typeof v === 'object')
    return Object.entries(v)
      .map(([k, x]) => `${termText(k)}=${fmt(x)}`)
      .join(' ');
  return termText(String(v));
}

export function table(head: string[], rows: unknown[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) t.push(r.map(fmt));
  return t.toString();
}

export function printTable(head: string[], rows: unknown[][]): void {
  process.stdout.write(table(head, rows) + '\n');
}
