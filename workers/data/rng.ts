// Seeded randomness for data: every shuffle, subset and generated row is reproducible from (seed, purpose).
import seedrandom from 'seedrandom';

export type Rng = () => number;

/** A uniform [0,1) generator; `stream` separates independent uses of one seed (shuffle vs generation). */
export function makeRng(seed: number, stream = ''): Rng {
  return seedrandom(`${stream}:${seed}`);
}

/** Standard normal by Box–Muller (one value per call: simpler, and data generation is not the bottleneck). */
export function gaussian(rng: Rng): number {
  let u = rng();
  while (u <= Number.MIN_VALUE) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Fisher–Yates permutation of 0..n−1. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
