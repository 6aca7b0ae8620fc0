// Weight/bias initialisation schemes (docs/init.md): each scheme's moments match its formula, the default
// reproduces the engine's pre-`init` draws bit for bit, and the same seed gives the same weights.
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { INIT_SCHEMES, parseSpec, type InitScheme } from '../shared/spec.js';
import { initBackend } from '../workers/engine/backend.js';
import { drawLayer, initStream } from '../workers/engine/init.js';
import { DeepBernModel } from '../workers/engine/model.js';

beforeAll(async () => {
  await initBackend('cpu');
});

function moments(a: Float32Array): { mean: number; variance: number } {
  let s = 0;
  for (const v of a) s += v;
  const mean = s / a.length;
  let q = 0;
  for (const v of a) q += (v - mean) ** 2;
  return { mean, variance: q / a.length };
}

/** Expected weight variance and bias variance, written from the formulas in docs/init.md (not from init.ts). */
function expected(scheme: InitScheme, fanIn: number, fanOut: number, output: boolean): { w: number; b: number } {
  const he = output ? 1 : 2;
  switch (scheme) {
    case 'torch':
      return { w: 1 / (3 * fanIn), b: 1 / (3 * fanIn) }; // U(±1/√fan_in): a²/3
    case 'he_normal':
      return { w: he / fanIn, b: 0 };
    case 'he_uniform':
      return { w: he / fanIn, b: 0 };
    case 'lecun_normal':
      return { w: 1 / fanIn, b: 0 };
    case 'xavier_uniform':
      return { w: 2 / (fanIn + fanOut), b: 0 };
    case 'xavier_normal':
      return { w: 2 / (fanIn + fanOut), b: 0 };
  }
}

describe('initialisation schemes', () => {
  const fanIn = 300,
    fanOut = 1000; // 300k weights: the sample variance is within ~0.5 % (uniform) / ~0.3 % (normal)
  for (const scheme of INIT_SCHEMES) {
    for (const output of [false, true]) {
      it(`${scheme}${output ? ' (output layer)' : ''}: weight and bias mean and variance match the formula`, () => {
        const { w, b } = drawLayer(initStream(`t:${scheme}`), scheme, fanIn, fanOut, output);
        const e = expected(scheme, fanIn, fanOut, output);
        const mw = moments(w);
        expect(Math.abs(mw.mean)).toBeLessThan(4 * Math.sqrt(e.w / w.length));
        expect(mw.variance / e.w).toBeGreaterThan(0.97);
        expect(mw.variance / e.w).toBeLessThan(1.03);
        if (e.b === 0) {
          expect(b.every((v) => v === 0)).toBe(true);
        } else {
          const mb = moments(b); // 1000 biases: the variance within ~3 % (1σ)
          expect(Math.abs(mb.mean)).toBeLessThan(4 * Math.sqrt(e.b / b.length));
          expect(mb.variance / e.b).toBeGreaterThan(0.85);
          expect(mb.variance / e.b).toBeLessThan(1.15);
        }
        const bound =
          scheme === 'torch'
            ? 1 / Math.sqrt(fanIn)
            : scheme === 'he_uniform'
              ? Math.sqrt((3 * (output ? 1 : 2)) / fanIn)
              : scheme === 'xavier_uniform'
                ? Math.sqrt(6 / (fanIn + fanOut))
                : Infinity;
        if (bound < Infinity) {
          const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          expect(maxAbs(w)).toBeLessThanOrEqual(Math.fround(bound));
          expect(maxAbs(w)).toBeGreaterThan(0.99 * bound);
          expect(maxAbs(b)).toBeLessThanOrEqual(Math.fround(bound));
        }
      });
    }
  }

  it('the same seed draws the same weights; another seed does not', () => {
    for (const scheme of INIT_SCHEMES) {
      const a = drawLayer(initStream('s1'), scheme, 20, 30, false);
      const b = drawLayer(initStream('s1'), scheme, 20, 30, false);
      const c = drawLayer(initStream('s2'), scheme, 20, 30, false);
      expect(b.w).toEqual(a.w);
      expect(b.b).toEqual(a.b);
      expect(c.w).not.toEqual(a.w);
    }
  });

  /** The engine's draws before `init` existed, as they were written: Box–Muller normals × √(gain/fan_in). */
  function legacyDraws(seed: number, dims: number[], gainHidden: number): Float32Array[] {
    const rng = seedrandom(`deepbern-init:${seed}`);
    let spare: number | null = null;
    const next = () => {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = rng();
      const v = rng();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    };
    const out: Float32Array[] = [];
    for (let i = 0; i + 1 < dims.length; i++) {
      const gain = i + 2 < dims.length ? gainHidden : 1;
      const m = new Float32Array(dims[i] * dims[i + 1]);
      for (let k = 0; k < m.length; k++) m[k] = next() * Math.sqrt(gain / dims[i]);
      out.push(m);
    }
    return out;
  }

  it.each([
    ['relu', 2],
    ['gelu', 2],
    ['selu', 1],
    ['bernstein', 1],
  ] as const)(
    'a spec without init (%s) draws exactly the weights the engine drew before init existed',
    (activation, gain) => {
      const spec = parseSpec({ dataset: 'synthetic-higgs', depth: 3, width: 7, activation, seed: 5 });
      const model = new DeepBernModel(spec, { inputDim: 4, outputDim: 2, task: 'classification' });
      try {
        const ws = [...model.layers.map((L) => L.w), model.outW].map((v) => v.dataSync() as Float32Array);
        expect(ws).toEqual(legacyDraws(5, [4, 7, 7, 7, 2], gain));
        for (const b of [...model.layers.map((L) => L.b), model.outB])
          expect(Array.from(b.dataSync()).every((v) => v === 0)).toBe(true);
      } finally {
        model.dispose();
      }
    },
  );

  it('init: torch gives the model random biases within ±1/√fan_in on every layer', () => {
    const spec = parseSpec({ dataset: 'synthetic-higgs', depth: 2, width: 50, activation: 'relu', init: 'torch' });
    const model = new DeepBernModel(spec, { inputDim: 28, outputDim: 2, task: 'classification' });
    try {
      const layers = [...model.layers.map((L) => [L.inDim, L.b] as const), [50, model.outB] as const];
      for (const [fanIn, b] of layers) {
        const v = Array.from(b.dataSync());
        expect(v.some((x) => x !== 0)).toBe(true);
        for (const x of v) expect(Math.abs(x)).toBeLessThanOrEqual(Math.fround(1 / Math.sqrt(fanIn)));
      }
    } finally {
      model.dispose();
    }
  });
});
