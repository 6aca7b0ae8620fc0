import { describe, expect, it } from 'vitest';
import {
  activationLabel,
  INIT_SCHEMES,
  parseSpec,
  SPEC_FIELDS,
  SpecError,
  withLegacyDefaults,
} from '../shared/spec.js';

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
    [
      { init: 'kaiming' },
      /init must be one of torch, he_normal, he_uniform, lecun_normal, xavier_uniform, xavier_normal/,
    ],
    [{ bnAffine: 'yes' }, /bnAffine must be true or false/],
  ])('rejects %j with a message naming the field', (patch, re) => {
    const p = problems({ ...base, ...patch });
    expect(p.length).toBeGreaterThan(0);
    expect(p.join('\n')).toMatch(re);
  });

  it('init defaults to the scheme the engine always used for the activation; bnAffine to off', () => {
    expect(parseSpec(base).init).toBe('lecun_normal');
    expect(parseSpec({ ...base, activation: 'selu' }).init).toBe('lecun_normal');
    for (const a of ['relu', 'leaky_relu', 'gelu'])
      expect(parseSpec({ ...base, activation: a }).init).toBe('he_normal');
    expect(parseSpec(base).bnAffine).toBe(false);
    for (const init of INIT_SCHEMES) expect(parseSpec({ ...base, init }).init).toBe(init);
    expect(parseSpec({ ...base, bnAffine: true }).bnAffine).toBe(true);
    expect(SPEC_FIELDS).toEqual(expect.arrayContaining(['init', 'bnAffine'])); // sweepable like every field
  });

  it('a stored spec from before init / bnAffine is completed with what it used; complete specs are unchanged', () => {
    const { init: _i, bnAffine: _b, ...old } = parseSpec({ ...base, activation: 'relu' });
    expect(withLegacyDefaults(old)).toMatchObject({ init: 'he_normal', bnAffine: false });
    const full = parseSpec({ ...base, init: 'torch', bnAffine: true });
    expect(withLegacyDefaults(full)).toEqual(full);
  });
});
