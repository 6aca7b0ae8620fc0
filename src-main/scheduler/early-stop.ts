// Early termination (Optuna-style report → should-prune at each epoch), decided from stored epoch metrics.
import type { SweepFile } from '../../shared/sweep.js';
import type { Goal } from '../../shared/vocab.js';

/** Values of the sweep metric at one epoch for the *other* runs of the sweep that reached it. */
export type PeerValues = number[];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * median: prune when, from `min_epochs` on and with at least `warmup_runs` peers at this epoch, the run is
 * worse than the peers' median. asha: at rungs min_epochs·eta^k, keep only the top 1/eta of runs that reached
 * the rung (asynchronous successive halving: decided against whoever has reported so far).
 */
export function shouldStop(
  rule: NonNullable<SweepFile['early_terminate']>,
  goal: Goal,
  epoch: number,
  value: number,
  peers: PeerValues,
): boolean {
  if (!Number.isFinite(value)) return false; // divergence has its own status
  const worse = (a: number, b: number) => (goal === 'minimize' ? a > b : a < b);
  if (rule.type === 'median') {
    if (epoch < rule.min_epochs || peers.length < rule.warmup_runs) return false;
    return worse(value, median(peers));
  }
  let rung = rule.min_epochs;
  while (rung < epoch) rung *= rule.eta;
  if (rung !== epoch || peers.length < rule.eta - 1) return false;
  const all = [...peers, value].sort((a, b) => (goal === 'minimize' ? a - b : b - a));
  const keep = Math.max(1, Math.floor(all.length / rule.eta));
  return worse(value, all[keep - 1]);
}
