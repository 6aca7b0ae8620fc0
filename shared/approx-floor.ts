// The floor a Bernstein architecture imposes on a 1-D fit. In eval mode (batch norm with running statistics is
// an affine map per unit) and while no pre-activation is clamped on [−1,1], a depth-L stack of degree-n
// Bernstein activations is a polynomial of degree ≤ n^L in x. So its max error on [−1,1] is at least
// E_N(f) = min over polynomials p of degree ≤ N of ‖f − p‖∞, with N = n^L. (Clamping makes the net piecewise
// polynomial, and then the floor does not bind: the lab reports the clipped fraction beside it.)
//
// We bracket E_N without Remez (ours):
//  - upper: ‖f − p_N‖∞ of the Chebyshev interpolant at the N+1 Chebyshev points of the first kind (barycentric
//    formula), sampled on 16(N+2) Chebyshev-spaced points. Near-best: ≤ (1 + Λ_N)·E_N, Λ_N ≤ 1 + (2/π)ln(N+1).
//  - lower: the larger of upper/(1 + Λ_N) (near-best inequality; the sampled sup is ≤ the true sup, so this
//    stays a lower bound) and de la Vallée Poussin's bound: if f − p alternates in sign at N+2 points,
//    E_N ≥ the smallest |f − p| there (one extremum per sign run of the interpolant's error, weakest runs
//    dropped, their neighbours merged, until N+2 alternating points remain).
// N above FLOOR_DEGREE_CAP is computed at the cap: E_N is non-increasing in N, so the cap's upper bound still
// bounds E_N from above (no lower bound then). Errors at float64 rounding level are reported as such.

export const FLOOR_DEGREE_CAP = 1024;
/** Below this (relative to max |f|) the interpolant's error is float64 rounding, not approximation error. */
export const FLOOR_PRECISION = 1e-13;

export interface PolyFloor {
  /** n^L: the degree the architecture allows (may be astronomically large). */
  degree: number;
  /** The degree the bracket was computed at: min(degree, FLOOR_DEGREE_CAP). */
  computedDegree: number;
  /** Upper bound on E_degree (Chebyshev interpolation error at computedDegree). */
  upper: number;
  /** Lower bound on E_degree (de la Vallée Poussin); null when capped or not resolved. */
  lower: number | null;
  /** The interpolant is exact to float64 rounding: E_degree < upper, and both are below anything float32 nets reach. */
  belowPrecision: boolean;
  capped: boolean;
}

function chebyshevBracket(
  f: (x: number) => number,
  N: number,
): { upper: number; lower: number | null; maxAbsF: number } {
  const K = N + 1;
  const nodes = new Float64Array(K),
    fw = new Float64Array(K),
    w = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    const th = ((2 * j + 1) * Math.PI) / (2 * K);
    nodes[j] = Math.cos(th);
    w[j] = (j % 2 === 0 ? 1 : -1) * Math.sin(th);
    fw[j] = w[j]! * f(nodes[j]!);
  }
  const M = 16 * (N + 2);
  const errs = new Float64Array(M + 1);
  let upper = 0,
    maxAbsF = 0;
  for (let i = 0; i <= M; i++) {
    const x = Math.cos((i * Math.PI) / M);
    let num = 0,
      den = 0,
      hit = -1;
    for (let j = 0; j < K; j++) {
      const d = x - nodes[j]!;
      if (d === 0) {
        hit = j;
        break;
      }
      num += fw[j]! / d;
      den += w[j]! / d;
    }
    const fx = f(x);
    const e = fx - (hit >= 0 ? f(nodes[hit]!) : num / den);
    errs[i] = e;
    upper = Math.max(upper, Math.abs(e));
    maxAbsF = Math.max(maxAbsF, Math.abs(fx));
  }
  const lebesgue = 1 + (2 / Math.PI) * Math.log(N + 1);
  return { upper, lower: Math.max(upper / (1 + lebesgue), valleePoussin(errs, N + 2) ?? 0), maxAbsF };
}

/** Largest m such that the samples hold `need` points of alternating sign with |e| ≥ m (null if none). */
export function valleePoussin(errs: ArrayLike<number>, need: number): number | null {
  const runs: { v: number; s: number }[] = [];
  for (let i = 0; i < errs.length; i++) {
    const e = errs[i]!;
    if (e === 0 || !Number.isFinite(e)) continue;
    const s = Math.sign(e);
    const last = runs[runs.length - 1];
    if (last && last.s === s) last.v = Math.max(last.v, Math.abs(e));
    else runs.push({ v: Math.abs(e), s });
  }
  if (runs.length < need) return null;
  while (runs.length > need) {
    let i = 0;
    for (let k = 1; k < runs.length; k++) if (runs[k]!.v < runs[i]!.v) i = k;
    if (i === 0 || i === runs.length - 1) runs.splice(i, 1);
    else if (runs.length - need === 1) runs.splice(runs[0]!.v <= runs[runs.length - 1]!.v ? 0 : runs.length - 1, 1);
    else {
      // dropping an interior run joins its two same-sign neighbours: keep their larger extremum
      runs[i - 1]!.v = Math.max(runs[i - 1]!.v, runs[i + 1]!.v);
      runs.splice(i, 2);
    }
  }
  return Math.min(...runs.map((r) => r.v));
}

/** The bracket on E_{n^L}(f) (see the header). `degree` may exceed 2^53: only its size matters past the cap. */
export function polynomialFloor(f: (x: number) => number, degree: number): PolyFloor {
  if (!(degree >= 0)) throw new Error(`polynomial degree must be ≥ 0 (got ${degree})`);
  const computedDegree = Math.min(Math.round(degree), FLOOR_DEGREE_CAP);
  const capped = computedDegree < degree;
  // Cheap looks first (the cost is O(N²)): if a lower degree is already exact to rounding, so is every higher one.
  for (let probe = 64; probe < computedDegree; probe *= 2) {
    const p = chebyshevBracket(f, probe);
    if (p.upper <= FLOOR_PRECISION * Math.max(1, p.maxAbsF))
      return { degree, computedDegree: probe, upper: p.upper, lower: null, belowPrecision: true, capped };
  }
  const b = chebyshevBracket(f, computedDegree);
  const belowPrecision = b.upper <= FLOOR_PRECISION * Math.max(1, b.maxAbsF);
  return {
    degree,
    computedDegree,
    upper: b.upper,
    lower: capped || belowPrecision ? null : b.lower,
    belowPrecision,
    capped,
  };
}

/** Memoised per (target, degree): the lab asks for the same few degrees over and over. */
export class FloorCache {
  private readonly memo = new Map<string, PolyFloor>();
  get(targetId: string, f: (x: number) => number, degree: number): PolyFloor {
    const key = `${targetId}|${Math.min(degree, FLOOR_DEGREE_CAP + 1)}`;
    let v = this.memo.get(key);
    if (!v) {
      v = polynomialFloor(f, degree);
      this.memo.set(key, v);
    }
    return { ...v, degree };
  }
}

/** Short text of a floor, e.g. "E_27 ∈ [1.2e-5, 2.0e-5]", "E_729 < 1e-13 (float64 rounding)". */
export function floorText(p: PolyFloor): string {
  const N = p.degree > 1e6 ? p.degree.toExponential(2) : String(p.degree);
  if (p.belowPrecision)
    return `E_${N} below float64 precision (Chebyshev error ${p.upper.toExponential(1)} at degree ${p.computedDegree})`;
  if (p.capped) return `E_${N} ≤ ${p.upper.toExponential(2)} (computed at the cap, degree ${p.computedDegree})`;
  return p.lower !== null
    ? `E_${N} ∈ [${p.lower.toExponential(2)}, ${p.upper.toExponential(2)}]`
    : `E_${N} ≤ ${p.upper.toExponential(2)}`;
}
