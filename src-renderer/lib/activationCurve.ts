// Samples of σ and σ' for the designer's preview (identity initial coefficients; DESIGN §1.2, init is ours).
import { bernsteinDerivative, bernsteinValue, deltaBar } from '../../shared/theory.js';
import { identityCoefficients } from '../../shared/design.js';

export interface Curve {
  x: number[];
  sigma: number[];
  dsigma: number[];
  l: number;
  u: number;
  deltaBar: number;
  coeffs: number[];
}

export function activationCurve(degree: number, eps: number, l: number, u: number, points = 241): Curve | null {
  if (!(
    Number.isInteger(degree) &&
    degree >= 1 &&
    degree <= 64 &&
    Number.isFinite(l) &&
    Number.isFinite(u) &&
    l < u &&
    eps >= 0
  ))
    return null;
  const c = identityCoefficients(degree, l, u);
  const pad = 0.18 * (u - l);
  const x0 = l - pad;
  const x1 = u + pad;
  const x: number[] = [];
  const sigma: number[] = [];
  const dsigma: number[] = [];
  for (let i = 0; i < points; i++) {
    const xi = x0 + ((x1 - x0) * i) / (points - 1);
    x.push(xi);
    sigma.push(bernsteinValue(c, l, u, xi));
    dsigma.push(bernsteinDerivative(c, l, u, xi));
  }
  return { x, sigma, dsigma, l, u, deltaBar: deltaBar(degree, eps, l, u), coeffs: c };
}

/** σ and σ' at one x (the engine clamps inputs outside [l,u]: σ' is 0 there, σ its end value). */
export function activationAt(c: Curve, x: number): { sigma: number; dsigma: number; inside: boolean } {
  const inside = x >= c.l && x <= c.u;
  return { sigma: bernsteinValue(c.coeffs, c.l, c.u, x), dsigma: bernsteinDerivative(c.coeffs, c.l, c.u, x), inside };
}
