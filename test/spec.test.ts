import { describe, expect, it } from 'vitest';
import { activationLabel, parseSpec, SpecError } from '../shared/spec.js';

const base = { dataset: 'synthetic-higgs', depth: 3, width: 8, activation: 'bernstein' };

function problems(input: unknown): string[] {
  try {
    parseSpec(input);
  } catch (e) {
    if (e instanceof SpecError) return e.issues;
    throw e;
  }
  return [];
}

describe('network spec', () => {
  it('fills defaults: Bernstein gets batch norm, Bern_{9,0.01}[-5,5]', () => {
    const s = parseSpec(base);
    expect(s.batchNorm).toBe(true);
    expect(activationLabel(s)).toBe('Bern_{9,0.01}[-5,5]');
    expect(parseSpec({ ...base, activation: 'relu' }).batchNorm).toBe(false);
    expect(activationLabel(parseSpec({ ...base, activation: 'relu', residual: true }))).toBe('ReLU_res');
  });

  it.each([
    [{ degree: 0 }, /degree must be an integer between 1 and 64/],
    [{ bounds: [5, -5] }, /bounds must satisfy l < u \(got l=5, u=-5\)/],
    [{ eps: -0.1 }, /eps must be ≥ 0/],
    [{ width: 0 }, /width must be an integer between 1/],
    [{ depth: 0 }, /depth must be an integer between 1/],
    [{ activation: 'swish' }, /activation must be one of bernstein, relu/],
    [{ colour: 'red' }, /unknown field: colour/],
  ])('rejects %j with a message naming the field', (patch, re) => {
    const p = problems({ ...base, ...patch });
    expect(p.length).toBeGreaterThan(0);
    expect(p.join('\n')).toMatch(re);
  });
});
