import { describe, expect, it } from 'vitest';
import type { DesignBlock } from '../shared/api.js';
import { compileDesign, paramCount, specToBlocks, identityCoefficients, allFieldIssues } from '../shared/design.js';
import { parseSpec } from '../shared/spec.js';
import { bernsteinValue, bernsteinDerivative, deltaBar } from '../shared/theory.js';

const bern = (over: Partial<Extract<DesignBlock, { kind: 'bernstein' }>> = {}): DesignBlock => ({
  kind: 'bernstein',
  degree: 9,
  eps: 0.01,
  bounds: [-5, 5],
  boundsMode: 'fixed',
  ...over,
});
const bernStack = (times = 50, b: DesignBlock = bern()): DesignBlock[] => [
  { kind: 'repeat', times, blocks: [{ kind: 'dense', width: 100 }, { kind: 'batchnorm' }, b] },
  { kind: 'dense', width: 2 },
];

function issuesOf(blocks: DesignBlock[], training = {}) {
  const r = compileDesign(blocks, training);
  if (r.ok) throw new Error('expected issues, got a spec');
  return r.issues;
}

describe('design compiler', () => {
  it('compiles a Bernstein repeat stack into the paper HIGGS spec', () => {
    const r = compileDesign(bernStack(), { dataset: 'higgs', lr: 0.001, epochs: 5 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec).toMatchObject({
      dataset: 'higgs',
      depth: 50,
      width: 100,
      activation: 'bernstein',
      degree: 9,
      eps: 0.01,
      bounds: [-5, 5],
      boundsMode: 'fixed',
      batchNorm: true,
      residual: false,
      lr: 0.001,
      epochs: 5,
    });
    const spec = parseSpec(r.spec);
    expect(spec.depth).toBe(50);
  });

  it('recognises the same block sequence written out, with residual skips', () => {
    const unit: DesignBlock[] = [{ kind: 'dense', width: 32 }, { kind: 'relu' }, { kind: 'residual' }];
    const r = compileDesign([...unit, ...unit, ...unit, { kind: 'dense', width: 10 }]);
    expect(r.ok && r.spec).toMatchObject({ depth: 3, width: 32, activation: 'relu', residual: true, batchNorm: false });
    // skip written before the Dense works too; nested repeats multiply
    const r2 = compileDesign([
      {
        kind: 'repeat',
        times: 4,
        blocks: [
          { kind: 'repeat', times: 5, blocks: [{ kind: 'residual' }, { kind: 'dense', width: 8 }, { kind: 'selu' }] },
        ],
      },
      { kind: 'dense', width: 1 },
    ]);
    expect(r2.ok && r2.spec).toMatchObject({ depth: 20, activation: 'selu', residual: true });
  });

  it('degree 0 names the block and the degree field', () => {
    const [i] = issuesOf(bernStack(10, bern({ degree: 0 })));
    expect(i.path).toEqual([0, 2]);
    expect(i.field).toBe('degree');
    expect(i.message).toMatch(/degree/);
  });

  it('l ≥ u names the bounds field', () => {
    const [i] = issuesOf(bernStack(10, bern({ bounds: [3, 3] })));
    expect(i).toMatchObject({ path: [0, 2], field: 'bounds' });
    expect(i.message).toMatch(/l < u/);
  });

  it('missing Dense before an activation is named at the activation', () => {
    const [i] = issuesOf([
      { kind: 'repeat', times: 3, blocks: [{ kind: 'batchnorm' }, bern()] },
      { kind: 'dense', width: 2 },
    ]);
    expect(i.path).toEqual([0, 0]);
    expect(i.field).toBe('kind');
    expect(i.message).toMatch(/BatchNorm must follow a Dense/);
    const [j] = issuesOf([bern(), { kind: 'dense', width: 2 }]);
    expect(j).toMatchObject({ path: [0], field: 'kind' });
    expect(j.message).toMatch(/needs a Dense before it/);
  });

  it('missing output Dense and no Dense at all', () => {
    const [i] = issuesOf([{ kind: 'repeat', times: 3, blocks: [{ kind: 'dense', width: 4 }, { kind: 'gelu' }] }]);
    expect(i).toMatchObject({ path: [0], field: 'kind' });
    expect(i.message).toMatch(/must end with an output Dense/);
    const [j] = issuesOf([{ kind: 'relu' }]);
    expect(j.message).toMatch(/missing Dense/);
  });

  it('unsupported shapes say why', () => {
    const [a] = issuesOf([
      { kind: 'dense', width: 8 },
      { kind: 'relu' },
      { kind: 'batchnorm' },
      { kind: 'dense', width: 1 },
    ]);
    expect(a).toMatchObject({ path: [2], field: 'kind' });
    expect(a.message).toMatch(/BatchNorm after the activation isn't supported/);
    const [b] = issuesOf([
      { kind: 'dense', width: 8 },
      { kind: 'relu' },
      { kind: 'dense', width: 16 },
      { kind: 'relu' },
      { kind: 'dense', width: 1 },
    ]);
    expect(b).toMatchObject({ path: [2], field: 'width' });
    expect(b.message).toMatch(/hidden blocks differ \(width 16 vs 8/);
    const [c] = issuesOf([
      { kind: 'dense', width: 8 },
      { kind: 'dense', width: 8 },
      { kind: 'relu' },
      { kind: 'dense', width: 1 },
    ]);
    expect(c.message).toMatch(/followed by another Dense/);
  });

  it('training settings are validated with their field', () => {
    const [i] = issuesOf(bernStack(), { lr: -1 });
    expect(i).toMatchObject({ path: [], field: 'lr' });
  });

  it('spec → blocks → spec round-trips', () => {
    const spec = parseSpec({
      dataset: 'mnist',
      depth: 20,
      width: 64,
      activation: 'leaky_relu',
      alpha: 0.05,
      residual: true,
    });
    const blocks = specToBlocks(spec, 10);
    const r = compileDesign(blocks, { dataset: 'mnist' });
    expect(r.ok && r.spec).toMatchObject({
      depth: 20,
      width: 64,
      activation: 'leaky_relu',
      alpha: 0.05,
      residual: true,
      batchNorm: false,
    });
    expect(allFieldIssues(blocks)).toEqual([]);
  });
});

describe('paramCount', () => {
  it('matches a hand count for a known net', () => {
    // 28 → [100, BN, Bern n=9] × 50 → 2
    const first = 28 * 100 + 100;
    const rest = 49 * (100 * 100 + 100);
    const bern = 50 * 100 * 10;
    const out = 100 * 2 + 2;
    expect(paramCount({ depth: 50, width: 100, activation: 'bernstein', degree: 9 }, 28, 2)).toBe(
      first + rest + bern + out,
    );
    expect(paramCount({ depth: 2, width: 3, activation: 'relu' }, 4, 1)).toBe(4 * 3 + 3 + 3 * 3 + 3 + 3 + 1);
    // affine batch norm adds γ and β per unit and layer; without batch norm bnAffine adds nothing
    expect(paramCount({ depth: 2, width: 3, activation: 'relu', batchNorm: true, bnAffine: true }, 4, 1)).toBe(
      4 * 3 + 3 + 3 * 3 + 3 + 3 + 1 + 2 * 2 * 3,
    );
    expect(paramCount({ depth: 2, width: 3, activation: 'relu', bnAffine: true }, 4, 1)).toBe(
      4 * 3 + 3 + 3 * 3 + 3 + 3 + 1,
    );
    expect(
      paramCount({ depth: 2, width: 3, activation: 'bernstein', degree: 2, bnAffine: true }, 4, 1) -
        paramCount({ depth: 2, width: 3, activation: 'bernstein', degree: 2 }, 4, 1),
    ).toBe(12);
  });
});

describe('identity init', () => {
  it('σ(x) = x on [l,u] and σ′ = 1 ≥ δ̄', () => {
    const c = identityCoefficients(9, -5, 5);
    for (const x of [-4.5, -1, 0, 2.25, 5]) expect(bernsteinValue(c, -5, 5, x)).toBeCloseTo(x, 10);
    expect(bernsteinDerivative(c, -5, 5, 1)).toBeCloseTo(1, 10);
    expect(deltaBar(9, 0.01, -5, 5)).toBeCloseTo(0.009, 12);
  });
});
