import { describe, expect, it } from 'vitest';
import { parseSweepText, planSweep, SweepError } from '../shared/sweep.js';

function errorOf(text: string): string {
  try {
    planSweep(parseSweepText(text));
  } catch (e) {
    if (e instanceof SweepError) return e.message;
    throw e;
  }
  throw new Error('expected a SweepError');
}

const head = 'name: t\ndataset: synthetic-higgs\nbase: {depth: 2, width: 8, activation: relu, epochs: 1}\n';

describe('sweep plan', () => {
  it('grid expands to the product of value lists times seeds', () => {
    const plan = planSweep(
      parseSweepText(
        head + 'parameters:\n  activation: {values: [bernstein, relu, gelu]}\n  depth: {values: [2, 4]}\nseeds: 2\n',
      ),
    );
    expect(plan.total).toBe(12);
    expect(plan.runs).toHaveLength(12);
    expect(new Set(plan.runs.map((r) => JSON.stringify(r.params))).size).toBe(12);
    expect(plan.runs[0].spec.batchNorm).toBe(true); // bernstein default
  });

  it('init and bnAffine are sweepable like every spec field; a missing init is the activation default', () => {
    const plan = planSweep(
      parseSweepText(
        head +
          'parameters:\n  init: {values: [torch, he_normal]}\n  bn_affine: {values: [false, true]}\n  batchNorm: {values: [true]}\n',
      ),
    );
    expect(plan.runs.map((r) => [r.spec.init, r.spec.bnAffine])).toEqual(
      expect.arrayContaining([
        ['torch', false],
        ['torch', true],
        ['he_normal', false],
        ['he_normal', true],
      ]),
    );
    expect(plan.runs).toHaveLength(4);
    expect(planSweep(parseSweepText(head + 'parameters:\n  depth: {values: [2]}\n')).runs[0].spec.init).toBe(
      'he_normal',
    );
    expect(errorOf(head + 'parameters:\n  init: {values: [torch, glorot]}\n')).toMatch(
      /init must be one of torch, he_normal/,
    );
  });

  it('run_cap caps the grid; snake_case aliases work', () => {
    const plan = planSweep(
      parseSweepText(head + 'run_cap: 3\nparameters:\n  batch_size: {values: [16, 32, 64, 128]}\n'),
    );
    expect(plan.runs.map((r) => r.spec.batchSize)).toEqual([16, 32, 64]);
  });

  it('random sampling is reproducible with random_seed and respects ranges', () => {
    const text =
      head +
      'method: random\nrun_cap: 20\nrandom_seed: 7\nparameters:\n  lr: {min: 0.0001, max: 0.1, distribution: log_uniform}\n  width: {min: 4, max: 9, distribution: int}\n';
    const a = planSweep(parseSweepText(text));
    const b = planSweep(parseSweepText(text));
    expect(a.runs.map((r) => r.spec.lr)).toEqual(b.runs.map((r) => r.spec.lr));
    expect(a.runs).toHaveLength(20);
    for (const r of a.runs) {
      expect(r.spec.lr).toBeGreaterThanOrEqual(1e-4);
      expect(r.spec.lr).toBeLessThanOrEqual(0.1);
      expect(Number.isInteger(r.spec.width) && r.spec.width >= 4 && r.spec.width <= 9).toBe(true);
    }
    const c = planSweep(parseSweepText(text.replace('random_seed: 7', 'random_seed: 8')));
    expect(c.runs.map((r) => r.spec.lr)).not.toEqual(a.runs.map((r) => r.spec.lr));
  });

  it.each([
    ['parameters:\n  colour: {values: [1]}\n', /line 5: parameters.colour: unknown parameter/],
    ['parameters:\n  depth: {values: []}\n', /line 5: .*values must list at least one value/],
    ['method: random\nrun_cap: 2\nparameters:\n  lr: {min: 2, max: 1}\n', /line 7: parameters.lr: min must be ≤ max/],
    ['parameters:\n  depth: {values: [0, 2]}\n', /depth must be an integer between 1 and 1000/],
    ['parameters:\n  lr: {min: 0.1, max: 1}\n', /a grid needs value or values/],
    [
      'parameters:\n  width: {values: [' +
        Array.from({ length: 200 }, (_, i) => i + 1).join(',') +
        ']}\n  depth: {values: [' +
        Array.from({ length: 60 }, (_, i) => i + 1).join(',') +
        ']}\n',
      /12000 runs .*set run_cap/,
    ],
    ['name: [\n', /line \d+:/],
  ])('rejects bad files clearly: %#', (tail, re) => {
    expect(errorOf(head + tail)).toMatch(re);
  });
});

describe('sweep variants', () => {
  it('a variant parameter applies bundles of fields (designs that are not a product grid)', () => {
    const plan = planSweep(
      parseSweepText(
        head +
          'parameters:\n  variant:\n    values:\n      - {activation: bernstein, degree: 15}\n      - {activation: relu, residual: true}\n      - {activation: selu, batch_norm: true}\n  lr: {values: [0.001, 0.01]}\n',
      ),
    );
    expect(plan.runs).toHaveLength(6);
    expect(
      plan.runs
        .map((r) => `${r.spec.activation}/${r.spec.degree}/${r.spec.residual}/${r.spec.batchNorm}`)
        .filter((_, i) => i % 2 === 0),
    ).toEqual(['bernstein/15/false/true', 'relu/9/true/false', 'selu/9/false/true']);
  });

  it('rejects unknown fields inside a variant with the line', () => {
    expect(errorOf(head + 'parameters:\n  variant:\n    values:\n      - {activation: relu, colour: red}\n')).toMatch(
      /line 7: parameters.variant.values.0.colour: unknown field/,
    );
  });
});

describe('sweep base', () => {
  it('a variant in base is an unknown field, not a crash', () => {
    expect(
      errorOf(
        'name: t\ndataset: synthetic-higgs\nbase: {depth: 2, width: 8, activation: relu, variant: {values: [{}]}}\n',
      ),
    ).toMatch(/line 3: base\.variant: unknown field/);
  });
});
