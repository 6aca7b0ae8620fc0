import { describe, expect, it } from 'vitest';
import {
  bernsteinDerivative,
  bernsteinValue,
  deltaBar,
  effectiveCoefficients,
  learnedFloor,
} from '../shared/theory.js';

describe('theory helpers', () => {
  it('δ̄ for Bern_{9,0.01}[-5,5] is 0.009', () => {
    expect(deltaBar(9, 0.01, -5, 5)).toBeCloseTo(0.009, 12);
  });

  it('identity coefficients give σ(x) = x on [l,u] and clamp outside', () => {
    const n = 9,
      l = -5,
      u = 5;
    const c = Array.from({ length: n + 1 }, (_, k) => l + ((u - l) * k) / n);
    for (const x of [-5, -2.5, 0, 1.3, 5]) expect(bernsteinValue(c, l, u, x)).toBeCloseTo(x, 12);
    expect(bernsteinValue(c, l, u, 9)).toBeCloseTo(5, 12);
    expect(bernsteinDerivative(c, l, u, 0.7)).toBeCloseTo(1, 12);
    expect(bernsteinDerivative(c, l, u, 7)).toBe(0);
  });

  it("the learned floor of ε-re-parameterised coefficients is ≥ δ̄ and bounds σ' on a dense grid", () => {
    const theta = [-8, 2, -3, 0.5, -20, 1, 0, -1, 3];
    const c = effectiveCoefficients(-1, theta, 0.01);
    const floor = learnedFloor(c, -5, 5);
    expect(floor).toBeGreaterThanOrEqual(deltaBar(9, 0.01, -5, 5));
    for (let i = 0; i <= 2000; i++) {
      const x = -5 + (10 * i) / 2000;
      expect(bernsteinDerivative(c, -5, 5, x)).toBeGreaterThanOrEqual(floor - 1e-12);
    }
  });
});
