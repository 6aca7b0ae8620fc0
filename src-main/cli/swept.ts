// The parameters a sweep's runs differ in (what `sweep show` lists beside the ranking), from the stored specs.
import { BERNSTEIN, FIXED_ACTIVATION_TABLE, isFixedActivation } from '../../shared/activations.js';
import { SPEC_FIELDS, type NetworkSpec } from '../../shared/spec.js';

const BERNSTEIN_ONLY = new Set(['degree', 'eps', 'bounds', 'boundsMode', 'boundsMomentum']);

/** Whether a spec field means anything for this spec's activation (a ReLU run has no degree: missing, not 9). */
export function fieldApplies(spec: NetworkSpec, field: string): boolean {
  if (BERNSTEIN_ONLY.has(field))
    return spec.activation === BERNSTEIN && (field !== 'boundsMomentum' || spec.boundsMode === 'adaptive');
  if (field === 'alpha')
    return (
      isFixedActivation(spec.activation) &&
      (FIXED_ACTIVATION_TABLE[spec.activation].params as readonly string[]).includes('alpha')
    );
  if (field === 'bnAffine') return spec.batchNorm;
  return true;
}

export interface SweptParam {
  param: string;
  /** The distinct values the runs have, in first-seen order (a run the field does not apply to adds none). */
  values: unknown[];
}

/** Spec fields with two or more distinct values among the runs they apply to, in spec-field order. */
export function sweptParams(specs: readonly NetworkSpec[]): SweptParam[] {
  const out: SweptParam[] = [];
  for (const field of SPEC_FIELDS) {
    const seen = new Map<string, unknown>();
    for (const spec of specs) {
      if (!fieldApplies(spec, field)) continue;
      const v = (spec as unknown as Record<string, unknown>)[field];
      if (v !== undefined) seen.set(JSON.stringify(v), v);
    }
    if (seen.size > 1) out.push({ param: field, values: [...seen.values()] });
  }
  return out;
}

/** One run's values of the swept parameters; null where the field does not apply to it. */
export function runParams(spec: NetworkSpec, swept: readonly SweptParam[]): Record<string, unknown> {
  return Object.fromEntries(
    swept.map(({ param }) => [
      param,
      fieldApplies(spec, param) ? ((spec as unknown as Record<string, unknown>)[param] ?? null) : null,
    ]),
  );
}
