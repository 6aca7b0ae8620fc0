// Exported model JSON, evaluated by an independent float64 evaluator written here, against predict.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../workers/engine/backend.js';
import { evaluateModel, parseModelFile } from '../shared/model-file.js';
import { exportModelJson, predict, type ModelJson } from '../workers/engine/export.js';
import { trainRun } from '../workers/engine/train.js';
import { easyClassification, smallRegression, tinySpec } from './support/engine-fixtures.js';

beforeAll(async () => {
  await initBackend('wasm');
});

// erf by Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7): independent of tfjs.
function erf(x: number): number {
  const s = Math.sign(x),
    a = Math.abs(x),
    t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** Evaluates one raw row exactly as docs/model-format.md says, in float64. */
function evaluate(m: ModelJson, raw: number[]): number[] {
  let v = raw.map((x, j) => (x - m.standardization.mean[j]) / m.standardization.std[j]);
  const saved: number[][] = [];
  for (const L of m.layers) {
    switch (L.type) {
      case 'dense':
        v = L.bias.map((b, o) => b + v.reduce((s, x, i) => s + x * L.weights[i][o], 0));
        break;
      case 'batchnorm':
        v = v.map((x, j) => ((x - L.runningMean[j]) / Math.sqrt(L.runningVar[j] + L.eps)) * L.gamma[j] + L.beta[j]);
        break;
      case 'bernstein':
        v = v.map((x, j) => {
          const l = L.l[j],
            u = L.u[j],
            n = L.degree;
          const t = (Math.min(Math.max(x, l), u) - l) / (u - l);
          return L.coefficients[j].reduce((s, c, k) => s + c * choose(n, k) * t ** k * (1 - t) ** (n - k), 0);
        });
        break;
      case 'relu':
        v = v.map((x) => Math.max(0, x));
        break;
      case 'leaky_relu':
        v = v.map((x) => (x > 0 ? x : L.alpha * x));
        break;
      case 'selu':
        v = v.map((x) => L.scale * (x > 0 ? x : L.alpha * (Math.exp(x) - 1)));
        break;
      case 'gelu':
        v = v.map((x) => 0.5 * x * (1 + erf(x / Math.SQRT2)));
        break;
      case 'residual_begin':
        saved.push(v);
        break;
      case 'residual_end': {
        const s = saved.pop()!;
        v = v.map((x, j) => x + s[j]);
        break;
      }
      case 'softmax': {
        const mx = Math.max(...v);
        const e = v.map((x) => Math.exp(x - mx));
        const z = e.reduce((a, b) => a + b);
        v = e.map((x) => x / z);
        break;
      }
    }
  }
  return v;
}

async function trained(spec: ReturnType<typeof tinySpec>, ds = easyClassification()): Promise<Uint8Array> {
  const r = await trainRun(spec, ds);
  expect(r.status).toBe('finished');
  return r.finalState;
}

describe('model export', () => {
  const cases = [
    [
      'Bernstein + BN + residual, adaptive bounds',
      tinySpec({ residual: true, boundsMode: 'adaptive' }),
      easyClassification(),
    ],
    [
      'Bernstein fixed bounds, 4 = width so block 1 is skipped too',
      tinySpec({ residual: true, width: 4 }),
      easyClassification(),
    ],
    ['GELU regression', tinySpec({ activation: 'gelu', residual: true }), smallRegression()],
    ['SELU + BN', tinySpec({ activation: 'selu', batchNorm: true }), easyClassification()],
    ['Leaky ReLU', tinySpec({ activation: 'leaky_relu', alpha: 0.05 }), easyClassification()],
    ['Bernstein + affine BN, init torch', tinySpec({ bnAffine: true, init: 'torch' }), easyClassification()],
    [
      'Bernstein + affine BN, adaptive bounds',
      tinySpec({ bnAffine: true, boundsMode: 'adaptive' }),
      easyClassification(),
    ],
    [
      'ReLU + affine BN + residual, regression',
      tinySpec({ activation: 'relu', batchNorm: true, bnAffine: true, residual: true }),
      smallRegression(),
    ],
  ] as const;
  for (const [name, spec, ds] of cases) {
    it(`independent float64 evaluation of the JSON equals predict within 1e-4: ${name}`, async () => {
      const state = await trained(spec, ds);
      const json: ModelJson = JSON.parse(JSON.stringify(exportModelJson(state)));
      expect(json.format).toBe('deepbern-model');
      const n = 20,
        d = ds.inputDim;
      // Raw rows: undo the stored standardisation of test rows, so predict must re-apply it.
      const raw = new Float32Array(n * d);
      for (let i = 0; i < n * d; i++)
        raw[i] = ds.xTest[i] * ds.standardization.std[i % d] + ds.standardization.mean[i % d];
      const got = predict(state, raw, n);
      expect(got.length).toBe(n * ds.outputDim);
      for (let i = 0; i < n; i++) {
        const want = evaluate(json, Array.from(raw.subarray(i * d, (i + 1) * d)));
        want.forEach((w, k) =>
          expect(Math.abs(got[i * ds.outputDim + k] - w)).toBeLessThan(1e-4 * Math.max(1, Math.abs(w))),
        );
      }
      if (json.task === 'classification') expect(got[0] + got[1]).toBeCloseTo(1, 5);
      if (spec.residual)
        expect(json.layers.filter((l) => l.type === 'residual_begin').length).toBe(spec.width === d ? 3 : 2);
      expect(json.init).toBe(spec.init);
      expect(json.bnAffine).toBe(spec.batchNorm && spec.bnAffine);
      // the shipped evaluator (shared/model-file.ts, used by `predict --model`) agrees too
      const file = parseModelFile(JSON.stringify(json));
      for (let i = 0; i < n; i++) {
        const want = evaluateModel(file, raw.subarray(i * d, (i + 1) * d));
        want.forEach((w, k) =>
          expect(Math.abs(got[i * ds.outputDim + k] - w)).toBeLessThan(1e-4 * Math.max(1, Math.abs(w))),
        );
      }
      if (spec.bnAffine) {
        // the trained γ, β are what is exported (not the non-affine 1 and 0)
        const bn = json.layers.filter((l) => l.type === 'batchnorm');
        expect(bn.length).toBe(spec.depth);
        expect(bn.some((l) => l.type === 'batchnorm' && l.gamma.some((g) => g !== 1))).toBe(true);
        expect(bn.some((l) => l.type === 'batchnorm' && l.beta.some((b) => b !== 0))).toBe(true);
      }
    });
  }

  it('Bernstein coefficients in the export are the effective ones (increasing by ≥ ε)', async () => {
    const spec = tinySpec();
    const json = exportModelJson(await trained(spec));
    const b = json.layers.find((l) => l.type === 'bernstein');
    if (b?.type !== 'bernstein') throw new Error('no Bernstein layer');
    for (const c of b.coefficients)
      for (let k = 0; k < spec.degree; k++) expect(c[k + 1] - c[k]).toBeGreaterThanOrEqual(spec.eps * (1 - 1e-6));
  });
});
