// Per-epoch probes on a fixed evaluation batch (DESIGN §1.4; definitions in docs/metrics.md). One eval-mode
// forward + backward: pre-activations z per layer, σ'(z) analytically, ∂loss/∂W per layer and ∂loss/∂a₁.
import * as tf from '@tensorflow/tfjs-core';
import type { LayerMetricRow } from '../../shared/metrics.js';
import { activationDerivative } from './activations.js';
import type { BatchTargets, DeepBernModel } from './model.js';

export interface ProbeResult {
  layers: LayerMetricRow[];
  /** Network-wide dead units / all hidden units. */
  dead_ratio: number;
  /** Bernstein nets: clipped pre-activations / all pre-activations; undefined otherwise. */
  clipped_frac?: number;
  mag1: number;
}

// Per-layer summary vector, gathered into one tensor so the whole probe costs a single device sync.
const DEAD = 0,
  MIN_IN = 1,
  FLOOR = 2,
  CLIPPED = 3,
  GRAD = 4,
  FIELDS = 5;

export function runProbes(model: DeepBernModel, x: tf.Tensor2D, y: BatchTargets): ProbeResult {
  const { spec } = model;
  const B = x.shape[0],
    W = spec.width;
  const kind = spec.activation;
  const isBern = kind === 'bernstein'; // narrows `kind` to a fixed activation where false
  const zs: tf.Tensor2D[] = [];
  const offset = tf.tidy(() => tf.variable(tf.zeros([B, W]), true));
  try {
    const summary = tf.tidy(() => {
      const weights = model.layers.map((L) => L.w);
      const { grads } = tf.variableGrads(() => {
        zs.length = 0;
        return model.loss(model.forwardEval(x, { a1Offset: offset as tf.Variable<tf.Rank.R2>, record: zs }), y);
      }, [offset, ...weights]);
      const rows = model.layers.map((L, i) => {
        const z = zs[i];
        let d: tf.Tensor2D;
        let minInside: tf.Tensor, floor: tf.Tensor, clipped: tf.Tensor;
        if (isBern) {
          const c = model.coefficients(L);
          const { l, u } = model.bounds(L);
          // σ acts elementwise, so ∂(Σσ(z))/∂z = σ'(z): the ops' own (fused, on wasm/cpu) backward kernel gives
          // the derivative at the cost of one kernel call (the composed reference took seconds at depth 50).
          d = tf.abs(
            tf.grad((zz: tf.Tensor) => tf.sum(model.ops.bernstein(zz as tf.Tensor2D, c, l, u)))(z),
          ) as tf.Tensor2D;
          const inside = tf.logicalAnd(tf.greaterEqual(z, l), tf.lessEqual(z, u));
          minInside = tf.min(tf.where(inside, d, tf.fill(d.shape, Infinity)));
          clipped = tf.sub(B * W, tf.sum(tf.cast(inside, 'float32')));
          const n = spec.degree;
          const steps = tf.min(tf.sub(tf.slice(c, [0, 1], [-1, n]), tf.slice(c, [0, 0], [-1, n])), 1);
          floor = tf.min(tf.div(tf.mul(steps, n), tf.sub(u, l)));
        } else {
          d = tf.abs(activationDerivative(kind, z, spec.alpha));
          minInside = tf.min(d);
          floor = tf.scalar(NaN);
          clipped = tf.scalar(NaN);
        }
        const dead = tf.sum(tf.cast(tf.less(tf.max(d, 0), spec.tau), 'float32'));
        const gradNorm = tf.sqrt(tf.sum(tf.square(grads[L.w.name])));
        return tf.stack([dead, minInside, floor, clipped, gradNorm]);
      });
      const mag1 = tf.mean(tf.abs(grads[offset.name]));
      return tf.concat([...rows, tf.reshape(mag1, [1])]);
    });
    const v = summary.dataSync();
    summary.dispose();
    const layers: LayerMetricRow[] = [];
    let dead = 0,
      clipped = 0;
    model.layers.forEach((L, i) => {
      const r = (k: number) => v[i * FIELDS + k];
      dead += r(DEAD);
      layers.push({ layer: L.index, metric: 'dead_ratio', value: r(DEAD) / W });
      // No pre-activation inside [l,u] leaves the minimum undefined: omit it rather than store ∞.
      if (Number.isFinite(r(MIN_IN))) layers.push({ layer: L.index, metric: 'min_dsigma', value: r(MIN_IN) });
      if (isBern) {
        clipped += r(CLIPPED);
        layers.push({ layer: L.index, metric: 'learned_floor', value: r(FLOOR) });
        layers.push({ layer: L.index, metric: 'clipped_frac', value: r(CLIPPED) / (B * W) });
      }
      layers.push({ layer: L.index, metric: 'grad_norm', value: r(GRAD) });
    });
    const L = model.layers.length;
    return {
      layers,
      dead_ratio: dead / (L * W),
      clipped_frac: isBern ? clipped / (L * B * W) : undefined,
      mag1: v[L * FIELDS],
    };
  } finally {
    for (const z of zs) z.dispose();
    offset.dispose();
  }
}
