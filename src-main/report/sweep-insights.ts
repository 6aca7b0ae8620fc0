// A sweep's insights: the best-so-far curve (metric vs run index, as W&B and Optuna draw it) and parameter
// importance over the finished runs. Read from the store only; the CLI, the service and reports share it.
import type { SweepInsights } from '../../shared/api.js';
import type { RunStatus } from '../../shared/metrics.js';
import type { NetworkSpec } from '../../shared/spec.js';
import { paramsOfSpec } from '../scheduler/bayes.js';
import type { RunStore } from '../store/run-store.js';
import { parameterImportance } from './importance.js';

export const IMPORTANCE_METHOD =
  'permutation importance over a random forest (64 trees) fitted to the finished and pruned runs';

export async function sweepInsights(store: RunStore, sweepId: string): Promise<SweepInsights> {
  const sweep = await store.getSweep(sweepId);
  const file = sweep.config;
  const { name, goal } = file.metric;
  const trials = await store.sweepTrials(sweepId, name);
  const runs = (await store.listRuns({ sweepId, limit: 100_000, orderBy: 'created_at' })).rows;
  const nameOf = new Map(runs.map((r) => [r.id, r.name]));
  let best: number | null = null;
  const history = trials.map((t, index) => {
    const counts = t.status === 'finished' || t.status === 'pruned';
    const value = t.value !== null && Number.isFinite(t.value) ? t.value : null;
    if (counts && value !== null && (best === null || (goal === 'minimize' ? value < best : value > best)))
      best = value;
    return { index, runId: t.runId, name: nameOf.get(t.runId) ?? t.runId, status: t.status as RunStatus, value, best };
  });
  // Importance explains what finished: pruned runs carry an early value, so they join only when nothing else.
  const done = trials.filter((t) => t.status === 'finished' && t.value !== null);
  const fitted =
    done.length >= 4
      ? done
      : trials.filter((t) => (t.status === 'finished' || t.status === 'pruned') && t.value !== null);
  const importance = parameterImportance(
    fitted.map((t) => ({ params: paramsOfSpec(file, t.spec as NetworkSpec), value: t.value as number })),
    { seed: file.random_seed },
  );
  return { sweepId, metric: { name, goal }, history, importance: { ...importance, method: IMPORTANCE_METHOD } };
}
