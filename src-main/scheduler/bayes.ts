// `method: bayes` sweeps: the next run is proposed from the sweep's runs so far (TPE, shared/tpe.ts) when a
// worker frees up, until run_cap runs exist. A run's parameters are read back from its stored spec, so the
// history survives a crash and a resumed sweep continues the same sequence.
import type { NetworkSpec } from '../../shared/spec.js';
import { activationLabel } from '../../shared/spec.js';
import {
  bayesSeed,
  canonicalField,
  runSpec,
  VARIANT_PARAM,
  type ParamValue,
  type SweepFile,
} from '../../shared/sweep.js';
import { proposeTpe, type TpeTrial } from '../../shared/tpe.js';
import type { RunStore } from '../store/run-store.js';

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/** The values a stored run took for the file's parameters (variant: the bundle its spec matches). */
export function paramsOfSpec(file: SweepFile, spec: NetworkSpec): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  const fields = spec as unknown as Record<string, unknown>;
  for (const [name, def] of Object.entries(file.parameters)) {
    if (name === VARIANT_PARAM) {
      const values = 'values' in def ? def.values : 'value' in def ? [def.value] : [];
      const hit = values.find((v) =>
        Object.entries(v as Record<string, unknown>).every(([k, x]) => same(fields[canonicalField(k) ?? k], x)),
      );
      if (hit !== undefined) out[name] = hit;
      continue;
    }
    const field = canonicalField(name);
    if (field) out[name] = fields[field] as ParamValue;
  }
  return out;
}

const STATE: Record<string, TpeTrial['state'] | undefined> = {
  finished: 'complete',
  pruned: 'pruned',
  // Unfinished, failed and diverged trials count with the bad ones (constant liar), never with the good.
  queued: 'running',
  running: 'running',
  interrupted: 'running',
  cancelled: 'running',
  failed: 'running',
  diverged: 'running',
};

/** The sweep's history as the sampler reads it, in plan order. */
export async function sweepHistory(store: RunStore, sweepId: string, file: SweepFile): Promise<TpeTrial[]> {
  const rows = await store.sweepTrials(sweepId, file.metric.name);
  return rows.map((r, index) => ({
    index,
    params: paramsOfSpec(file, r.spec as NetworkSpec),
    state: STATE[r.status] ?? 'running',
    value: r.value ?? undefined,
    epochs: r.epochsDone,
  }));
}

/** Create the next proposed run of a bayes sweep; undefined when run_cap runs exist already. */
export async function proposeNextRun(store: RunStore, sweepId: string, file: SweepFile): Promise<string | undefined> {
  const history = await sweepHistory(store, sweepId, file);
  const index = history.length;
  if (index >= (file.run_cap ?? 0)) return undefined;
  const params = proposeTpe(file.parameters, history, { seed: file.random_seed, index, goal: file.metric.goal });
  const spec = runSpec(file, params, bayesSeed(file, index));
  const name = `${file.name}-${String(index + 1).padStart(3, '0')} ${activationLabel(spec)}`;
  return store.createRun({ spec, name, sweepId, epochsTotal: spec.epochs });
}
