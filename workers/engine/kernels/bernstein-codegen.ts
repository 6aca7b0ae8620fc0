// Degree-specialised column loops for the Bernstein kernels, generated once per degree. Unrolling puts the
// coefficients, power tables and the n+1 gradient sums in locals (registers) and removes every inner loop
// and branch: ~4× faster than the generic loops in bernstein-math.ts, which stay as the fallback (e.g. where
// `new Function` is forbidden by a content-security policy, or for very high degrees).
//
// Numerics: the basis is evaluated as C(n,k)·t^k·s^(n−k) from power tables of t and s = 1 − t — products of
// non-negative numbers, so no cancellation (unlike converting to the monomial/power form), in float64.

/**
 * y[idx] = σ(x), x = (src[idx] − mu)·sc·ga + be, for idx = w, w+W, … < N; coefficients c[cOff … cOff+n].
 * ga, be: the affine batch-norm scale and shift (1 and 0 without: x is then exactly (src − mu)·sc).
 */
export type ColumnForward = (
  src: Float32Array,
  y: Float32Array,
  N: number,
  W: number,
  w: number,
  c: Float32Array,
  cOff: number,
  l: number,
  u: number,
  mu: number,
  sc: number,
  ga: number,
  be: number,
) => void;

/**
 * gx[idx] = dy·σ'(x) (0 outside [l,u]); acc[0..n] = Σ dy·b_k(t) (∂L/∂c_k); acc[n+1], acc[n+2] = ∂L/∂l, ∂L/∂u;
 * acc[n+3], acc[n+4] = Σ gx, Σ gx·x̂ with x̂ = (src − mu)·sc before the affine part (what the batch-norm
 * backward and ∂L/∂γ, ∂L/∂β need).
 */
export type ColumnBackward = (
  dy: Float32Array,
  src: Float32Array,
  gx: Float32Array,
  N: number,
  W: number,
  w: number,
  c: Float32Array,
  cOff: number,
  l: number,
  u: number,
  mu: number,
  sc: number,
  ga: number,
  be: number,
  acc: Float64Array,
) => void;

export const MAX_GENERATED_DEGREE = 32;

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** Statements defining t1..tm and s1..sm (t0 = s0 = 1 are written as literals). */
function powerTables(m: number): string {
  const lines: string[] = [];
  for (let k = 2; k <= m; k++) lines.push(`const t${k} = t${k - 1} * t, s${k} = s${k - 1} * s;`);
  return lines.join('\n');
}
const pw = (v: 't' | 's', k: number): string => (k === 0 ? '1' : k === 1 ? v : `${v}${k}`);

function prologue(): string {
  // Clamp via t: x ≤ l ⇒ t ≤ 0 ⇒ 0; x ≥ u ⇒ t ≥ 1 ⇒ 1. The comparisons compile to min/max, not branches.
  return `const xh = (src[idx] - mu) * sc, x = xh * ga + be;
let t = (x - l) * inv; t = t < 0 ? 0 : t; t = t > 1 ? 1 : t;
const s = 1 - t, t1 = t, s1 = s;`;
}

function forwardSource(n: number): string {
  const cs = Array.from({ length: n + 1 }, (_, k) => `const c${k} = c[cOff + ${k}] * ${binom(n, k)};`).join('\n');
  const terms = Array.from({ length: n + 1 }, (_, k) => `c${k} * ${pw('t', k)} * ${pw('s', n - k)}`).join(' + ');
  return `const inv = 1 / (u - l);
${cs}
for (let idx = w; idx < N; idx += W) {
${prologue()}
${powerTables(n)}
y[idx] = ${terms};
}`;
}

function backwardSource(n: number): string {
  // With p_k = t^k s^(n−1−k):  σ'(t) = Σ_k d_k p_k, d_k = n·C(n−1,k)(c_{k+1} − c_k);  b_k = C(n,k)·p_k·s (k < n),
  // b_n = tⁿ. Sharing p_k between both costs ~5n flops per element instead of ~8n.
  const ds = Array.from(
    { length: n },
    (_, k) => `const d${k} = (c[cOff + ${k + 1}] - c[cOff + ${k}]) * ${n * binom(n - 1, k)};`,
  ).join('\n');
  const accs = Array.from({ length: n + 1 }, (_, k) => `a${k} = 0`).join(', ');
  const ps = Array.from({ length: n }, (_, k) => `const p${k} = ${pw('t', k)} * ${pw('s', n - 1 - k)};`).join('\n');
  const accUpd = [
    ...Array.from({ length: n }, (_, k) => `a${k} += gs * p${k};`),
    `a${n} += g * ${n === 0 ? '1' : `${pw('t', n - 1)} * t`};`,
  ].join('\n');
  const dsdt = n === 0 ? '0' : Array.from({ length: n }, (_, k) => `d${k} * p${k}`).join(' + ');
  const stores = Array.from({ length: n + 1 }, (_, k) => `acc[${k}] = a${k} * ${binom(n, k)};`).join('\n');
  return `const inv = 1 / (u - l);
${ds}
let ${accs}, aL = 0, aH = 0, aG = 0, aGX = 0;
for (let idx = w; idx < N; idx += W) {
const g = dy[idx];
${prologue()}
${powerTables(n - 1)}
${ps}
const gs = g * s;
${accUpd}
const gv = (x >= l && x <= u) ? g * (${dsdt}) * inv : 0;
gx[idx] = gv;
aL += gv * (t - 1); aH -= gv * t; aG += gv; aGX += gv * xh;
}
${stores}
acc[${n + 1}] = aL; acc[${n + 2}] = aH; acc[${n + 3}] = aG; acc[${n + 4}] = aGX;`;
}

const fwdCache = new Map<number, ColumnForward | null>();
const bwdCache = new Map<number, ColumnBackward | null>();

function compile<T>(params: string[], body: string): T | null {
  try {
    // Runtime specialisation is the point here (see header); the signature is fixed by the callers' types.
    return new Function(...params, `"use strict";\n${body}`) as unknown as T;
  } catch {
    return null;
  }
}

/** The generated forward loop for degree n, or null (use the generic loop). */
export function columnForward(n: number): ColumnForward | null {
  if (n > MAX_GENERATED_DEGREE) return null;
  if (!fwdCache.has(n)) {
    fwdCache.set(
      n,
      compile<ColumnForward>(
        ['src', 'y', 'N', 'W', 'w', 'c', 'cOff', 'l', 'u', 'mu', 'sc', 'ga', 'be'],
        forwardSource(n),
      ),
    );
  }
  return fwdCache.get(n) ?? null;
}

/** The generated backward loop for degree n, or null (use the generic loop). */
export function columnBackward(n: number): ColumnBackward | null {
  if (n > MAX_GENERATED_DEGREE) return null;
  if (!bwdCache.has(n)) {
    bwdCache.set(
      n,
      compile<ColumnBackward>(
        ['dy', 'src', 'gx', 'N', 'W', 'w', 'c', 'cOff', 'l', 'u', 'mu', 'sc', 'ga', 'be', 'acc'],
        backwardSource(n),
      ),
    );
  }
  return bwdCache.get(n) ?? null;
}
