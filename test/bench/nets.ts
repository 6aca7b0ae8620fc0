// The four peer nets (../shared/bench/peer_torch.py) built on EngineOps, with a minimal training step
// (forward + backward + Adam) for timing. Mirrors the peer: Linear → BatchNorm(affine=False) → activation,
// the same parameters (W, b per Linear; a, θ per Bernstein layer) and PyTorch's default initialisation.
import * as tf from '@tensorflow/tfjs-core';
import { effectiveCoefficientsFast, FusedAdam } from '../../workers/engine/kernels/index.js';
import type { EngineOps } from '../../workers/engine/ops.js';

export interface NetSpec {
  name: string;
  act: 'bern' | 'relu';
  inputs: number;
  outputs: number;
  depth: number;
  width: number;
  degree: number;
  eps: number;
  l: number;
  u: number;
  batch: number;
}

export const BN_EPS = 1e-5;

export const PEER_NETS: NetSpec[] = [
  { name: 'HIGGS Bern n=9 depth 50', act: 'bern', inputs: 28, outputs: 2, depth: 50 },
  { name: 'HIGGS ReLU depth 50', act: 'relu', inputs: 28, outputs: 2, depth: 50 },
  { name: 'MNIST Bern n=9 depth 20', act: 'bern', inputs: 784, outputs: 10, depth: 20 },
  { name: 'MNIST ReLU depth 20', act: 'relu', inputs: 784, outputs: 10, depth: 20 },
].map((n) => ({ width: 100, degree: 9, eps: 0.01, l: -5, u: 5, batch: 256, ...n }) as NetSpec);

interface Layer {
  w: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R1>;
  a?: tf.Variable<tf.Rank.R1>;
  theta?: tf.Variable<tf.Rank.R2>;
  runMean: tf.Tensor1D;
  runVar: tf.Tensor1D;
}

export interface BenchNet {
  spec: NetSpec;
  paramCount: number;
  /** One training step on the given batch; returns nothing (no device sync, as the peer's loop). */
  step(x: tf.Tensor2D, y: tf.Tensor2D): void;
  dispose(): void;
}

/** PyTorch nn.Linear default: U(−1/√in, 1/√in) for weights and bias. */
function linear(
  inDim: number,
  outDim: number,
  tag: string,
): { w: tf.Variable<tf.Rank.R2>; b: tf.Variable<tf.Rank.R1> } {
  const k = 1 / Math.sqrt(inDim);
  return {
    w: tf.tidy(() => tf.variable(tf.randomUniform([inDim, outDim], -k, k) as tf.Tensor2D, true, `${tag}/w`)),
    b: tf.tidy(() => tf.variable(tf.randomUniform([outDim], -k, k) as tf.Tensor1D, true, `${tag}/b`)),
  };
}

let netCounter = 0;

export function buildNet(spec: NetSpec, ops: EngineOps): BenchNet {
  const id = `bench${++netCounter}`;
  const layers: Layer[] = [];
  let d = spec.inputs;
  for (let i = 0; i < spec.depth; i++) {
    const lin = linear(d, spec.width, `${id}/L${i}`);
    const layer: Layer = { ...lin, runMean: tf.keep(tf.zeros([spec.width])), runVar: tf.keep(tf.ones([spec.width])) };
    if (spec.act === 'bern') {
      layer.a = tf.tidy(() => tf.variable(tf.fill([spec.width], -1) as tf.Tensor1D, true, `${id}/L${i}/a`));
      layer.theta = tf.tidy(() =>
        tf.variable(tf.zeros([spec.width, spec.degree]) as tf.Tensor2D, true, `${id}/L${i}/theta`),
      );
    }
    layers.push(layer);
    d = spec.width;
  }
  const out = linear(d, spec.outputs, `${id}/out`);
  const vars: tf.Variable[] = [];
  for (const L of layers) vars.push(L.w, L.b, ...(L.a && L.theta ? [L.a, L.theta] : []));
  vars.push(out.w, out.b);
  const paramCount = vars.reduce((s, v) => s + v.size, 0);
  const adam = new FusedAdam(vars, { learningRate: 1e-3, epsilon: 1e-8 });
  const unbias = spec.batch / (spec.batch - 1);

  function forward(x: tf.Tensor2D, stats: { mean: tf.Tensor1D; variance: tf.Tensor1D }[]): tf.Tensor2D {
    let h = x;
    for (const L of layers) {
      const z = ops.dense(h, L.w, L.b);
      if (L.a && L.theta) {
        const c = effectiveCoefficientsFast(L.a, L.theta, spec.eps);
        const r = ops.bnBernsteinTrain
          ? ops.bnBernsteinTrain(z, c, spec.l, spec.u, BN_EPS)
          : (() => {
              const bn = ops.batchNormTrain(z, BN_EPS);
              return { ...bn, y: ops.bernstein(bn.y, c, spec.l, spec.u) };
            })();
        stats.push({ mean: r.mean, variance: r.variance });
        h = r.y;
      } else if (ops.bnActTrain) {
        // the fused batch norm → ReLU the product trains with
        const r = ops.bnActTrain(z, 'relu', 0, BN_EPS);
        stats.push({ mean: r.mean, variance: r.variance });
        h = r.y;
      } else {
        const bn = ops.batchNormTrain(z, BN_EPS);
        stats.push({ mean: bn.mean, variance: bn.variance });
        h = tf.relu(bn.y);
      }
    }
    return ops.dense(h, out.w, out.b);
  }

  return {
    spec,
    paramCount,
    step(x, y) {
      const stats: { mean: tf.Tensor1D; variance: tf.Tensor1D }[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward(x, stats);
        stats.forEach((s) => {
          tf.keep(s.mean);
          tf.keep(s.variance);
        });
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      }, vars);
      adam.applyGradients(grads);
      // Running statistics as BatchNorm1d keeps them (momentum 0.1, unbiased variance).
      tf.tidy(() =>
        layers.forEach((L, i) => {
          const nm = tf.keep(tf.add(tf.mul(L.runMean, 0.9), tf.mul(stats[i].mean, 0.1))) as tf.Tensor1D;
          const nv = tf.keep(tf.add(tf.mul(L.runVar, 0.9), tf.mul(stats[i].variance, 0.1 * unbias))) as tf.Tensor1D;
          L.runMean.dispose();
          L.runVar.dispose();
          L.runMean = nm;
          L.runVar = nv;
        }),
      );
      for (const s of stats) tf.dispose([s.mean, s.variance]);
      tf.dispose(grads);
      value.dispose();
    },
    dispose() {
      tf.dispose(vars);
      for (const L of layers) tf.dispose([L.runMean, L.runVar]);
    },
  };
}
