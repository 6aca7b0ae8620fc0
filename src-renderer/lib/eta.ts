// Progress and time-to-go: a sweep's epochs done (with the running epochs' fractions) and an ETA from its own
// measured pace; before launch, an estimate from the planned work and the speed of recent finished runs.
import type { SweepSummary } from '../../shared/api.js';

export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '—';
  if (s < 1) return '< 1s';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${(s / 86400).toFixed(1)} days`;
}

export interface SweepProgress {
  /** Epochs done, counting the running epochs' finished fractions. */
  done: number;
  total: number;
  fraction: number;
  /** Seconds to go at the pace so far; null when it cannot be told yet (or nothing is left). */
  etaSeconds: number | null;
  text: string;
}

/** `partial`: the sum of the running runs' fractions of their current epoch (from run-progress events). */
export function sweepProgress(s: SweepSummary, partial = 0, now = Date.now()): SweepProgress {
  const e = s.epochs ?? { done: 0, total: s.total, remaining: 0 };
  const active = s.status === 'running' || s.status === 'queued';
  const done = e.done + (active ? Math.max(0, partial) : 0);
  const total = Math.max(e.total, 1);
  const started = s.startedAt ? Date.parse(s.startedAt) : NaN;
  const elapsed = (now - started) / 1000;
  const left = Math.max(0, e.remaining - (active ? partial : 0));
  // Pace of this session's work: epochs done since the first start (resumed sweeps start counting anew is fine).
  const etaSeconds = active && left > 0 && done > 0 && elapsed > 0 ? (elapsed / done) * left : null;
  const epochsText = `${Number.isInteger(done) ? done : done.toFixed(1)}/${e.total} epochs`;
  const text = active
    ? `${epochsText} · ${etaSeconds === null ? 'ETA —' : `ETA ${fmtSeconds(etaSeconds)}`}`
    : epochsText;
  return { done, total: e.total, fraction: Math.min(1, done / total), etaSeconds, text };
}

/** A finished run's measured work rate: parameters × training rows × epochs per second. */
export interface SpeedSample {
  paramCount: number;
  rows: number;
  epochs: number;
  seconds: number;
}

/** Seconds a plan will take at the measured rate, spread over `workers` parallel runs; null without samples. */
export function planEstimate(
  plan: { paramCount: number; rows: number; epochs: number }[],
  samples: SpeedSample[],
  workers: number,
): number | null {
  const good = samples.filter((x) => x.seconds > 0 && x.paramCount > 0 && x.rows > 0 && x.epochs > 0);
  if (!good.length || !plan.length) return null;
  const rate = good.reduce((a, x) => a + x.paramCount * x.rows * x.epochs, 0) / good.reduce((a, x) => a + x.seconds, 0);
  const work = plan.reduce((a, p) => a + p.paramCount * p.rows * p.epochs, 0);
  return work / rate / Math.max(1, Math.min(workers, plan.length));
}
