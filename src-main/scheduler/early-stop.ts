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
 * Hyperband as Optuna runs it: several successive-halving brackets, bracket b starting its rungs at
 * min_epochs·eta^b; a run joins one bracket (by its index in the sweep, weighted by each bracket's budget)
 * and is compared only with the runs of its own bracket.
 */
export function hyperbandBrackets(rule: { min_epochs: number; max_epochs: number; eta: number }): number {
  return Math.floor(Math.log(rule.max_epochs / rule.min_epochs) / Math.log(rule.eta) + 1e-9) + 1;
}

/** The bracket a run belongs to: deterministic in its index, so a resumed sweep puts it in the same one. */
export function hyperbandBracket(
  rule: { min_epochs: number; max_epochs: number; eta: number },
  runIndex: number,
): number {
  const n = hyperbandBrackets(rule);
  const budgets = Array.from({ length: n }, (_, b) => {
    const s = n - 1 - b;
    return Math.ceil((n * rule.eta ** s) / (s + 1));
  });
  const total = budgets.reduce((a, x) => a + x, 0);
  // A multiplicative hash spreads consecutive indices over the brackets (Optuna hashes study name + trial number).
  let slot = (Math.imul(runIndex + 1, 0x9e3779b1) >>> 0) % total;
  for (let b = 0; b < n; b++) {
    if (slot < budgets[b]) return b;
    slot -= budgets[b];
  }
  return n - 1;
}

/** The epochs at which a run of this bracket is judged: min_epochs·eta^(bracket+k), below max_epochs. */
export function hyperbandRungs(
  rule: { min_epochs: number; max_epochs: number; eta: number },
  bracket: number,
): number[] {
  const rungs: number[] = [];
  for (let r = rule.min_epochs * rule.eta ** bracket; r < rule.max_epochs; r *= rule.eta) rungs.push(Math.round(r));
  return rungs;
}

/** Successive halving at one rung: promote the top ⌊n/eta⌋ (at least the first run to arrive). */
function halvingPrunes(goal: 'minimize' | 'maximize', value: number, peers: PeerValues, eta: number): boolean {
  const all = [...peers, value].sort((a, b) => (goal === 'minimize' ? a - b : b - a));
  const keep = Math.max(1, Math.floor(all.length / eta));
  return goal === 'minimize' ? value > all[keep - 1] : value < all[keep - 1];
}

/**
 * median: prune when, from `min_epochs` on and with at least `warmup_runs` peers at this epoch, the run is
 * worse than the peers' median. asha: at rungs min_epochs·eta^k, keep only the top 1/eta of runs that reached
 * the rung (asynchronous successive halving: decided against whoever has reported so far). hyperband: the
 * same halving within the run's bracket, at that bracket's rungs.
 */
export function shouldStop(
  rule: NonNullable<SweepFile['early_terminate']>,
  goal: Goal,
  epoch: number,
  value: number,
  peers: PeerValues,
  /** Hyperband: the run's bracket and its epoch budget (max_epochs defaults to the run's epochs). */
  hyperband?: { bracket: number; epochs: number },
): boolean {
  if (!Number.isFinite(value)) return false; // divergence has its own status
  const worse = (a: number, b: number) => (goal === 'minimize' ? a > b : a < b);
  if (rule.type === 'median') {
    if (epoch < rule.min_epochs || peers.length < rule.warmup_runs) return false;
    return worse(value, median(peers));
  }
  if (rule.type === 'hyperband') {
    // `peers` are the runs of this run's bracket (the scheduler filters them with hyperbandBracket).
    const hb = { ...rule, max_epochs: rule.max_epochs ?? hyperband?.epochs ?? epoch + 1 };
    if (!hyperbandRungs(hb, hyperband?.bracket ?? 0).includes(epoch)) return false;
    return halvingPrunes(goal, value, peers, rule.eta);
  }
  let rung = rule.min_epochs;
  while (rung < epoch) rung *= rule.eta;
  if (rung !== epoch || peers.length < rule.eta - 1) return false;
  const all = [...peers, value].sort((a, b) => (goal === 'minimize' ? a - b : b - a));
  const keep = Math.max(1, Math.floor(all.length / rule.eta));
  return worse(value, all[keep - 1]);
}
