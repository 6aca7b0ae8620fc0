// Closed-form facts about the Bernstein activation (DESIGN §1.2), on plain number arrays.

export function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** The proven derivative floor for the ε re-parameterisation: δ̄ = n·ε/(u−l). */
export function deltaBar(degree: number, eps: number, l: number, u: number): number {
  return (degree * eps) / (u - l);
}

export function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

/** Effective coefficients c_0 = a, c_k = c_{k−1} + softplus(θ_k) + ε (θ has n entries). */
export function effectiveCoefficients(a: number, theta: ArrayLike<number>, eps: number): number[] {
  const c = [a];
  for (let k = 0; k < theta.length; k++) c.push(c[k] + softplus(theta[k]) + eps);
  return c;
}

/** The floor certified by learned coefficients: n/(u−l) · min_k (c_{k+1} − c_k). */
export function learnedFloor(coeffs: ArrayLike<number>, l: number, u: number): number {
  const n = coeffs.length - 1;
  let m = Infinity;
  for (let k = 0; k < n; k++) m = Math.min(m, coeffs[k + 1] - coeffs[k]);
  return (n / (u - l)) * m;
}

/** σ(x) in float64 by de Casteljau (stable at any degree): the reference for tests and exported models. */
export function bernsteinValue(coeffs: ArrayLike<number>, l: number, u: number, x: number): number {
  const t = (Math.min(Math.max(x, l), u) - l) / (u - l);
  const b = Array.from(coeffs);
  for (let r = b.length - 1; r > 0; r--) for (let k = 0; k < r; k++) b[k] = b[k] * (1 - t) + b[k + 1] * t;
  return b[0];
}

/** σ'(x) in float64: n/(u−l)·Σ (c_{k+1}−c_k) b_{k,n−1}(t) inside (l,u), 0 outside (the clamp). */
export function bernsteinDerivative(coeffs: ArrayLike<number>, l: number, u: number, x: number): number {
  if (x < l || x > u) return 0;
  const n = coeffs.length - 1;
  const d: number[] = [];
  for (let k = 0; k < n; k++) d.push(coeffs[k + 1] - coeffs[k]);
  if (n === 0) return 0;
  return (n / (u - l)) * bernsteinValue(d, l, u, x);
}
