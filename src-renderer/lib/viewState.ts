// Compare's state in the address: #/compare?runs=a,b&group=1&by=dataset,activation&band=sd&smooth=0.6&metrics=…
// so a view can be bookmarked or sent, and reopened exactly.
import type { BandMode } from './groups.js';

export interface CompareState {
  runs: string[];
  group: boolean;
  by: string[];
  band: BandMode;
  smooth: number;
  metrics: string[];
  hidden: string[];
}

const list = (v: string | null) =>
  v
    ? v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];

export function compareHash(s: CompareState): string {
  const q = new URLSearchParams();
  q.set('runs', s.runs.join(','));
  if (s.group) {
    q.set('group', '1');
    q.set('by', s.by.join(','));
    q.set('band', s.band);
  }
  if (s.smooth) q.set('smooth', String(s.smooth));
  q.set('metrics', s.metrics.join(','));
  if (s.hidden.length) q.set('hidden', s.hidden.join(','));
  return `#/compare?${q.toString().replace(/%2C/g, ',')}`;
}

/** The state a #/compare?… address carries; null for any other address (or one without state). */
export function parseCompareHash(hash: string): Partial<CompareState> | null {
  const m = /^#\/?compare\?(.*)$/.exec(hash);
  if (!m) return null;
  const q = new URLSearchParams(m[1]);
  const out: Partial<CompareState> = {};
  if (q.has('runs')) out.runs = list(q.get('runs'));
  out.group = q.get('group') === '1';
  if (q.has('by')) out.by = list(q.get('by'));
  const band = q.get('band');
  if (band === 'sd' || band === 'minmax') out.band = band;
  const smooth = Number(q.get('smooth'));
  out.smooth = Number.isFinite(smooth) && smooth >= 0 && smooth < 1 ? smooth : 0;
  if (q.has('metrics')) out.metrics = list(q.get('metrics'));
  out.hidden = list(q.get('hidden'));
  return out;
}
