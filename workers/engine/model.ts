// The network: [Dense → (BatchNorm) → activation (+ identity skip)] × depth → Dense (DESIGN §1.3).
// All dense / batch-norm / Bernstein arithmetic goes through an EngineOps object so fused kernels can replace it.
import * as tf from '@tensorflow/tfjs-core';
import type { NetworkSpec } from '../../shared/spec.js';
import { applyActivation, type FixedActivation } from './activations.js';
import { effectiveCoefficientsT, type Bound } from './bernstein-reference.js';
import { deadUnitsBernstein, deadUnitsFixed } from './dead-units.js';
import { ACT_CODES } from './kernels/act-math.js';
import { readView } from './kernels/backend-io.js';
import { drawLayer, identityTheta, initStream } from './init.js';
import { applyAffine, referenceOps, type BatchNormOut, type BnAffine, type DenseGrads, type EngineOps } from './ops.js';
import type { ModelDims, NamedArray } from './state.js';

export const BN_EPS = 1e-5;
/** PyTorch BatchNorm1d default: running ← (1 − 0.1)·running + 0.1·batch. */
export const BN_MOMENTUM = 0.1;
/** Adaptive bounds never get narrower than this (keeps 1/(u−l) finite). */
export const MIN_BOUND_WIDTH = 1e-3;

let modelCounter = 0;

export interface HiddenLayer {
  /** 1-based. */
  index: number;
  inDim: number;
  w: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R1>;
  a?: tf.Variable<tf.Rank.R1>;
  theta?: tf.Variable<tf.Rank.R2>;
  /** Affine batch norm (spec.bnAffine): learnable scale γ (init 1) and shift β (init 0) per unit. */
  gamma?: tf.Variable<tf.Rank.R1>;
  beta?: tf.Variable<tf.Rank.R1>;
  /** Buffers (not trained): running batch-norm stats, adaptive bounds. Replaced, never mutated, per update. */
  bnMean?: tf.Tensor1D;
  bnVar?: tf.Tensor1D;
  lo?: tf.Tensor1D;
  hi?: tf.Tensor1D;
  /** Identity skip around this block (input width = output width and spec.residual). */
  skip: boolean;
}

/** Batch statistics a training forward produces, applied to the buffers after the step. */
export interface BufferStats {
  bn: ({ mean: tf.Tensor1D; variance: tf.Tensor1D } | null)[];
  range: ({ min: tf.Tensor1D; max: tf.Tensor1D } | null)[];
  batchSize: number;
}

/**
 * The epoch-average dead reading's per-batch counts (docs/metrics.md `dead_ratio_epoch`): forwardTrain pushes
 * each hidden layer's number of units with |σ′(z)| < τ on every sample of the batch, and the time it took.
 */
export interface DeadTally {
  tau: number;
  counts: number[];
  seconds: number;
  /** One [W] mask per hidden layer (caller-allocated): 1 where the unit is alive on this batch (data-parallel runs combine slices). */
  alive?: Uint8Array[];
}

/** What the fused backward needs of one hidden layer's forward. */
export interface LayerRecord {
  input: tf.Tensor2D;
  pre: tf.Tensor2D;
  coeffs?: tf.Tensor2D;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

export interface EvalOptions {
  /** Added to the first hidden block's output (a zero tensor whose gradient is ∂loss/∂a₁, for MAG). */
  a1Offset?: tf.Tensor2D;
  /** Receives each hidden layer's pre-activation z (after batch norm) — the caller owns them. */
  record?: tf.Tensor2D[];
}

export class DeepBernModel {
  readonly layers: HiddenLayer[] = [];
  readonly outW: tf.Variable<tf.Rank.R2>;
  readonly outB: tf.Variable<tf.Rank.R1>;
  private readonly prefix = `deepbern${++modelCounter}`;

  constructor(
    readonly spec: NetworkSpec,
    readonly dims: ModelDims,
    readonly ops: EngineOps = referenceOps,
  ) {
    const next = initStream(`deepbern-init:${spec.seed}`);
    const W = spec.width;
    const isBern = spec.activation === 'bernstein';
    const [l, u] = spec.bounds;
    for (let i = 1; i <= spec.depth; i++) {
      const inDim = i === 1 ? dims.inputDim : W;
      const init = drawLayer(next, spec.init, inDim, W, false);
      const layer: HiddenLayer = {
        index: i,
        inDim,
        w: this.variable(`L${i}/w`, tf.tensor2d(init.w, [inDim, W])),
        b: this.variable(`L${i}/b`, tf.tensor1d(init.b)),
        skip: spec.residual && inDim === W,
      };
      if (isBern) {
        layer.a = this.variable(`L${i}/a`, tf.fill([W], l) as tf.Tensor1D);
        layer.theta = this.variable(
          `L${i}/theta`,
          tf.fill([W, spec.degree], identityTheta(l, u, spec.degree, spec.eps)) as tf.Tensor2D,
        );
        if (spec.boundsMode === 'adaptive') {
          layer.lo = tf.keep(tf.fill([W], l) as tf.Tensor1D);
          layer.hi = tf.keep(tf.fill([W], u) as tf.Tensor1D);
        }
      }
      if (spec.batchNorm) {
        layer.bnMean = tf.keep(tf.zeros([W]) as tf.Tensor1D);
        layer.bnVar = tf.keep(tf.ones([W]) as tf.Tensor1D);
        if (spec.bnAffine) {
          layer.gamma = this.variable(`L${i}/bn_gamma`, tf.ones([W]) as tf.Tensor1D);
          layer.beta = this.variable(`L${i}/bn_beta`, tf.zeros([W]) as tf.Tensor1D);
        }
      }
      this.layers.push(layer);
    }
    const out = drawLayer(next, spec.init, W, dims.outputDim, true);
    this.outW = this.variable('out/w', tf.tensor2d(out.w, [W, dims.outputDim]));
    this.outB = this.variable('out/b', tf.tensor1d(out.b));
  }

  private variable<R extends tf.Rank>(name: string, init: tf.Tensor<R>): tf.Variable<R> {
    // Engine-wide variable names must be unique: several models can live in one thread (tests, predict).
    const v = tf.variable(init, true, `${this.prefix}/${name}`);
    init.dispose();
    return v;
  }

  /** Trainable variables with their checkpoint names, in a fixed order (the optimizer's slot order). */
  trainables(): { name: string; variable: tf.Variable }[] {
    const out: { name: string; variable: tf.Variable }[] = [];
    for (const L of this.layers) {
      out.push({ name: `L${L.index}/w`, variable: L.w }, { name: `L${L.index}/b`, variable: L.b });
      if (L.gamma && L.beta)
        out.push(
          { name: `L${L.index}/bn_gamma`, variable: L.gamma },
          { name: `L${L.index}/bn_beta`, variable: L.beta },
        );
      if (L.a && L.theta)
        out.push({ name: `L${L.index}/a`, variable: L.a }, { name: `L${L.index}/theta`, variable: L.theta });
    }
    out.push({ name: 'out/w', variable: this.outW }, { name: 'out/b', variable: this.outB });
    return out;
  }

  /** Weights + biases + affine batch norm γ, β (when on) + Bernstein a, θ. */
  paramCount(): number {
    return this.trainables().reduce((s, t) => s + t.variable.size, 0);
  }

  /** Effective Bernstein coefficients [W, n+1] of a layer (c_0 = a, c_k = c_{k−1} + softplus(θ_k) + ε). */
  coefficients(L: HiddenLayer): tf.Tensor2D {
    if (!L.a || !L.theta) throw new Error(`layer ${L.index} is not a Bernstein layer`);
    return this.ops.coefficients
      ? this.ops.coefficients(L.a, L.theta, this.spec.eps)
      : effectiveCoefficientsT(L.a, L.theta, this.spec.eps);
  }

  bounds(L: HiddenLayer): { l: Bound; u: Bound } {
    return L.lo && L.hi ? { l: L.lo, u: L.hi } : { l: this.spec.bounds[0], u: this.spec.bounds[1] };
  }

  /** The layer's affine batch-norm parameters, or undefined (plain batch norm or none). */
  affine(L: HiddenLayer): BnAffine | undefined {
    return L.gamma && L.beta ? { gamma: L.gamma, beta: L.beta } : undefined;
  }

  private activate(L: HiddenLayer, z: tf.Tensor2D, coeffs?: tf.Tensor2D): tf.Tensor2D {
    if (this.spec.activation === 'bernstein') {
      const { l, u } = this.bounds(L);
      return this.ops.bernstein(z, coeffs ?? this.coefficients(L), l, u);
    }
    const kind = this.spec.activation;
    return this.ops.activation
      ? this.ops.activation(z, kind, this.spec.alpha)
      : applyActivation(kind, z, this.spec.alpha);
  }

  /**
   * Training-mode forward (batch statistics). Call inside a gradient scope; `stats` must be tf.keep'd by then.
   * With `record` (the fused path of gradients(), no gradient scope), each hidden layer's input, pre-activation,
   * coefficients and batch statistics are pushed for the backward pass.
   */
  forwardTrain(
    x: tf.Tensor2D,
    dead?: DeadTally,
    record?: LayerRecord[],
  ): { out: tf.Tensor2D; stats: BufferStats; last: tf.Tensor2D } {
    const stats: BufferStats = { bn: [], range: [], batchSize: x.shape[0] };
    const adaptive = this.spec.activation === 'bernstein' && this.spec.boundsMode === 'adaptive';
    let h = x;
    for (const L of this.layers) {
      const pre = this.ops.dense(h, L.w, L.b);
      let y: tf.Tensor2D;
      if (this.spec.batchNorm && this.ops.bnBernsteinTrain && this.spec.activation === 'bernstein' && !adaptive) {
        const { l, u } = this.bounds(L);
        let r: BatchNormOut, c: tf.Tensor2D;
        // The own backward (record, no tape) takes the one-call form: coefficients and batch norm → Bernstein.
        if (record && this.ops.bnBernsteinTrainTheta && L.a && L.theta) {
          const o = this.ops.bnBernsteinTrainTheta(pre, L.a, L.theta, this.spec.eps, l, u, BN_EPS, this.affine(L));
          r = o;
          c = o.coeffs;
        } else {
          c = this.coefficients(L);
          r = this.ops.bnBernsteinTrain(pre, c, l, u, BN_EPS, this.affine(L));
        }
        stats.bn.push({ mean: r.mean, variance: r.variance });
        stats.range.push(null);
        if (dead) this.countDead(dead, L, pre, r, c);
        record?.push({ input: h, pre, coeffs: c, mean: r.mean, variance: r.variance });
        y = r.y;
      } else if (this.spec.batchNorm && this.ops.bnActTrain && this.spec.activation !== 'bernstein') {
        const r = this.ops.bnActTrain(pre, this.spec.activation, this.spec.alpha, BN_EPS, this.affine(L));
        stats.bn.push({ mean: r.mean, variance: r.variance });
        stats.range.push(null);
        if (dead) this.countDead(dead, L, pre, r);
        record?.push({ input: h, pre, mean: r.mean, variance: r.variance });
        y = r.y;
      } else {
        if (record) throw new Error('forwardTrain: this network has no fused backward (see canBackprop)');
        let z = pre;
        if (this.spec.batchNorm) {
          const r = this.ops.batchNormTrain(pre, BN_EPS);
          stats.bn.push({ mean: r.mean, variance: r.variance });
          const affine = this.affine(L);
          z = affine ? applyAffine(r.y, affine) : r.y;
        } else stats.bn.push(null);
        stats.range.push(adaptive ? { min: tf.min(z, 0) as tf.Tensor1D, max: tf.max(z, 0) as tf.Tensor1D } : null);
        const c = this.spec.activation === 'bernstein' ? this.coefficients(L) : undefined;
        if (dead) this.countDead(dead, L, z, null, c);
        y = this.activate(L, z, c);
      }
      h = L.skip ? tf.add(y, h) : y;
    }
    return { out: this.ops.dense(h, this.outW, this.outB), stats, last: h };
  }

  /**
   * Whether gradients() runs the model's own backward pass: the ops have their backward kernels, every hidden
   * layer is one fused batch norm → activation kernel (batch norm on; Bernstein with fixed bounds and the fused
   * coefficient op). Otherwise gradients() uses the tfjs tape.
   */
  canBackprop(): boolean {
    const { spec, ops } = this;
    if (!ops.backward || !spec.batchNorm) return false;
    if (spec.activation === 'bernstein')
      return !!ops.bnBernsteinTrain && !!ops.coefficients && spec.boundsMode !== 'adaptive';
    return !!ops.bnActTrain;
  }

  /**
   * One training step's loss, correct count and gradients (trainables() order) with the batch statistics.
   * The tensors returned are the caller's (stats included). Two equivalent paths: the tfjs tape over
   * forwardTrain, or (canBackprop) the chain's own backward — the same kernels the tape would run, in reverse
   * layer order, without the tape's bookkeeping and its copies of every saved tensor. `lossScale` multiplies
   * the loss before differentiating (a data-parallel slice's share); `afterForward` runs between the forward
   * and the backward pass (the replicas' per-phase profile).
   */
  gradients(
    x: tf.Tensor2D,
    y: BatchTargets,
    dead?: DeadTally,
    lossScale = 1,
    afterForward?: () => void,
  ): { loss: tf.Scalar; correct?: tf.Scalar; grads: tf.Tensor[]; stats: BufferStats } {
    const params = this.trainables();
    if (!this.canBackprop()) {
      const kept: tf.Tensor[] = [];
      let stats: BufferStats | undefined;
      let correct: tf.Scalar | undefined;
      const { value, grads } = tf.variableGrads(
        () => {
          const r = this.forwardTrain(x, dead);
          stats = r.stats;
          // These leave the gradient scope: batch stats for the running buffers, the correct count for accuracy.
          for (const s of r.stats.bn) if (s) kept.push(tf.keep(s.mean), tf.keep(s.variance));
          for (const s of r.stats.range) if (s) kept.push(tf.keep(s.min), tf.keep(s.max));
          const lc = this.lossAndCorrect(r.out, y);
          if (lc.correct) correct = tf.keep(lc.correct);
          const scaled = lossScale === 1 ? lc.loss : (tf.mul(lc.loss, lossScale) as tf.Scalar);
          afterForward?.();
          return scaled;
        },
        params.map((p) => p.variable),
      );
      return { loss: value, correct, grads: params.map((p) => grads[p.variable.name]), stats: stats! };
    }
    let stats: BufferStats | undefined;
    let correct: tf.Scalar | undefined;
    const [loss, ...grads] = tf.tidy(() => {
      const record: LayerRecord[] = [];
      const r = this.forwardTrain(x, dead, record);
      stats = r.stats;
      for (const s of r.stats.bn) {
        if (s) {
          tf.keep(s.mean);
          tf.keep(s.variance);
        }
      }
      // The head (loss of the logits) through the tape: a few ops, and any loss the model defines.
      const head = tf.valueAndGrad((out: tf.Tensor2D) => {
        const lc = this.lossAndCorrect(out, y);
        if (lc.correct) correct = tf.keep(lc.correct);
        return lossScale === 1 ? lc.loss : (tf.mul(lc.loss, lossScale) as tf.Scalar);
      });
      const { value, grad } = head(r.out);
      afterForward?.();
      return [value, ...this.backprop(record, r.last, grad as tf.Tensor2D)];
    });
    return { loss: loss as tf.Scalar, correct, grads, stats: stats! };
  }

  /** ∂L/∂(every trainable) from ∂L/∂logits, back through the recorded chain (trainables() order). */
  private backprop(record: LayerRecord[], last: tf.Tensor2D, dOut: tf.Tensor2D): tf.Tensor[] {
    const bw = this.ops.backward!;
    const eps = this.spec.eps;
    const byLayer: tf.Tensor[][] = [];
    const dense = (x: tf.Tensor2D, dy: tf.Tensor2D, w: tf.Tensor2D, input: boolean): DenseGrads =>
      bw.dense
        ? bw.dense(x, dy, w, input)
        : { dw: bw.denseWeight(x, dy), db: bw.denseBias(dy), dx: input ? bw.denseInput(dy, w) : undefined };
    const out = dense(last, dOut, this.outW, true);
    const outGrads = [out.dw, out.db];
    let dh = out.dx!;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const L = this.layers[i],
        rec = record[i];
      const affine = this.affine(L);
      const st = { mean: rec.mean, variance: rec.variance };
      let dpre: tf.Tensor2D;
      const g: tf.Tensor[] = [];
      let coeffGrads: tf.Tensor[] = [];
      if (rec.coeffs) {
        const { l, u } = this.bounds(L);
        const r = bw.bnBernstein(dh, rec.pre, rec.coeffs, l as number, u as number, BN_EPS, st, affine, L.theta);
        dpre = r.dh;
        if (r.da && r.dtheta) coeffGrads = [r.da, r.dtheta];
        else {
          const c = bw.coefficients(r.dcoeffs!, L.theta!, eps);
          coeffGrads = [c.da, c.dtheta];
        }
        if (affine) g.push(r.dgamma!, r.dbeta!);
      } else {
        const r = bw.bnAct(dh, rec.pre, this.spec.activation as FixedActivation, this.spec.alpha, BN_EPS, st, affine);
        dpre = r.dh;
        if (affine) g.push(r.dgamma!, r.dbeta!);
      }
      // The first layer's input is the data: its gradient is never needed.
      const d = dense(rec.input, dpre, L.w, i > 0);
      byLayer[i] = [d.dw, d.db, ...g, ...coeffGrads];
      if (d.dx) dh = L.skip ? (tf.add(d.dx, dh) as tf.Tensor2D) : d.dx;
    }
    return [...byLayer.flat(), ...outGrads];
  }

  /**
   * Pushes layer L's dead-unit count for this batch: src is z itself (norm null) or the fused kernels' input h
   * with their batch statistics (and the layer's γ, β under affine batch norm). Reads the tensors' storage in place (no kernel, no copy on wasm/cpu).
   */
  private countDead(
    t: DeadTally,
    L: HiddenLayer,
    src: tf.Tensor2D,
    norm: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null,
    coeffs?: tf.Tensor2D,
  ): void {
    const t0 = performance.now();
    const backend = tf.backend();
    const view = (v: tf.Tensor) => readView(backend, v);
    const [B, W] = src.shape;
    // The fused kernels apply affine batch norm inside: fold γ, β in (the composed path hands z itself).
    const affine = norm ? this.affine(L) : undefined;
    const n = norm
      ? {
          mean: view(norm.mean),
          variance: view(norm.variance),
          eps: BN_EPS,
          gamma: affine ? view(affine.gamma) : null,
          beta: affine ? view(affine.beta) : null,
        }
      : null;
    let count: number;
    if (coeffs) {
      const { l, u } = this.bounds(L);
      const lo = typeof l === 'number' ? Float32Array.of(l) : view(l);
      const hi = typeof u === 'number' ? Float32Array.of(u) : view(u);
      count = deadUnitsBernstein(
        view(src),
        B,
        W,
        n,
        view(coeffs),
        this.spec.degree,
        lo,
        hi,
        t.tau,
        t.alive?.[t.counts.length] ?? null,
      );
    } else {
      const kind = this.spec.activation;
      if (kind === 'bernstein') throw new Error('dead units: a Bernstein layer without its coefficients');
      count = deadUnitsFixed(
        view(src),
        B,
        W,
        n,
        ACT_CODES[kind],
        this.spec.alpha,
        t.tau,
        t.alive?.[t.counts.length] ?? null,
      );
    }
    t.counts.push(count);
    t.seconds += (performance.now() - t0) / 1000;
  }

  /**
   * Running statistics after a training step. Batch norm: PyTorch's rule with the unbiased batch variance.
   * Adaptive bounds (ours, docs/metrics.md): l ← μ·l + (1−μ)·min_batch z, u ← μ·u + (1−μ)·max_batch z per
   * unit, μ = spec.boundsMomentum, z the post-batch-norm pre-activation of this step; widened symmetrically
   * to at least MIN_BOUND_WIDTH.
   */
  applyStats(stats: BufferStats): void {
    const mu = this.spec.boundsMomentum;
    const B = stats.batchSize;
    const unbiased = B > 1 ? B / (B - 1) : 1;
    const fused = this.ops.runningStats;
    if (fused) {
      const idx: number[] = [];
      const updates = [];
      for (const [i, L] of this.layers.entries()) {
        const bn = stats.bn[i];
        if (bn && L.bnMean && L.bnVar) {
          idx.push(i);
          updates.push({ mean: L.bnMean, variance: L.bnVar, batchMean: bn.mean, batchVar: bn.variance });
        }
      }
      fused(updates, BN_MOMENTUM, unbiased).forEach(([m, v], k) => {
        const L = this.layers[idx[k]];
        L.bnMean!.dispose();
        L.bnVar!.dispose();
        L.bnMean = tf.keep(m);
        L.bnVar = tf.keep(v);
      });
    }
    this.layers.forEach((L, i) => {
      const bn = stats.bn[i];
      if (bn && L.bnMean && L.bnVar && !fused) {
        const oldMean = L.bnMean,
          oldVar = L.bnVar;
        L.bnMean = tf.keep(
          tf.tidy(() => tf.add(tf.mul(oldMean, 1 - BN_MOMENTUM), tf.mul(bn.mean, BN_MOMENTUM)) as tf.Tensor1D),
        );
        L.bnVar = tf.keep(
          tf.tidy(
            () => tf.add(tf.mul(oldVar, 1 - BN_MOMENTUM), tf.mul(bn.variance, BN_MOMENTUM * unbiased)) as tf.Tensor1D,
          ),
        );
        oldMean.dispose();
        oldVar.dispose();
      }
      const r = stats.range[i];
      if (r && L.lo && L.hi) {
        const oldLo = L.lo,
          oldHi = L.hi;
        const [lo, hi] = tf.tidy(() => {
          const lo1 = tf.add(tf.mul(oldLo, mu), tf.mul(r.min, 1 - mu));
          const hi1 = tf.add(tf.mul(oldHi, mu), tf.mul(r.max, 1 - mu));
          const mid = tf.mul(tf.add(lo1, hi1), 0.5);
          const narrow = tf.less(tf.sub(hi1, lo1), MIN_BOUND_WIDTH);
          return [
            tf.where(narrow, tf.sub(mid, MIN_BOUND_WIDTH / 2), lo1) as tf.Tensor1D,
            tf.where(narrow, tf.add(mid, MIN_BOUND_WIDTH / 2), hi1) as tf.Tensor1D,
          ];
        });
        L.lo = tf.keep(lo);
        L.hi = tf.keep(hi);
        oldLo.dispose();
        oldHi.dispose();
      }
    });
  }

  /** Eval-mode forward: running batch-norm stats, no buffer updates. Returns logits / regression outputs. */
  forwardEval(x: tf.Tensor2D, opts: EvalOptions = {}): tf.Tensor2D {
    let h = x;
    for (const L of this.layers) {
      let z = this.ops.dense(h, L.w, L.b);
      if (L.bnMean && L.bnVar) {
        z = tf.div(tf.sub(z, L.bnMean), tf.sqrt(tf.add(L.bnVar, BN_EPS))) as tf.Tensor2D;
        const affine = this.affine(L);
        if (affine) z = applyAffine(z, affine);
      }
      if (opts.record) opts.record.push(tf.keep(z));
      const y = this.activate(L, z);
      h = L.skip ? tf.add(y, h) : y;
      if (L.index === 1 && opts.a1Offset) h = tf.add(h, opts.a1Offset);
    }
    return this.ops.dense(h, this.outW, this.outB);
  }

  /** Mean loss over the batch: softmax cross-entropy (labels = class indices) or MSE. */
  loss(out: tf.Tensor2D, y: BatchTargets): tf.Scalar {
    if (this.dims.task === 'classification') {
      return tf.neg(tf.mean(tf.sum(tf.mul(y.target, tf.logSoftmax(out)), 1))) as tf.Scalar;
    }
    return tf.mean(tf.squaredDifference(out, y.target)) as tf.Scalar;
  }

  /** The loss and, for classification, the correct count (as correct()): one fused kernel when the ops have it. */
  lossAndCorrect(out: tf.Tensor2D, y: BatchTargets): { loss: tf.Scalar; correct?: tf.Scalar } {
    if (this.dims.task === 'classification') {
      if (this.ops.softmaxCrossEntropy) return this.ops.softmaxCrossEntropy(out, y.target);
      return { loss: this.loss(out, y), correct: this.correct(out, y) };
    }
    return { loss: this.loss(out, y) };
  }

  /** Correctly classified rows in the batch (classification only). */
  correct(out: tf.Tensor2D, y: BatchTargets): tf.Scalar {
    return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), y.labels!), 'float32')));
  }

  /** Every value the checkpoint needs from the model (trainables, then buffers), in a fixed order. */
  exportTensors(): NamedArray[] {
    const out: NamedArray[] = this.trainables().map((t) => ({
      name: t.name,
      shape: t.variable.shape.slice(),
      data: t.variable.dataSync() as Float32Array,
    }));
    for (const L of this.layers) {
      const buffers: [string, tf.Tensor1D | undefined][] = [
        ['bn_mean', L.bnMean],
        ['bn_var', L.bnVar],
        ['lo', L.lo],
        ['hi', L.hi],
      ];
      for (const [n, t] of buffers)
        if (t) out.push({ name: `L${L.index}/${n}`, shape: t.shape.slice(), data: t.dataSync() as Float32Array });
    }
    return out.map((t) => ({ ...t, data: Float32Array.from(t.data) }));
  }

  /** Overwrite every model tensor from a checkpoint; shapes must match exactly. */
  importTensors(byName: Map<string, NamedArray>): void {
    const take = (name: string, shape: number[]): tf.Tensor => {
      const t = byName.get(name);
      if (!t) throw new Error(`checkpoint lacks ${name}`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new Error(`checkpoint ${name} has shape [${t.shape}], the model expects [${shape}]`);
      }
      return tf.tensor(t.data, shape);
    };
    for (const { name, variable } of this.trainables()) {
      const v = take(name, variable.shape);
      variable.assign(v);
      v.dispose();
    }
    for (const L of this.layers) {
      const W = this.spec.width;
      if (L.bnMean && L.bnVar) {
        L.bnMean.dispose();
        L.bnVar.dispose();
        L.bnMean = tf.keep(take(`L${L.index}/bn_mean`, [W]) as tf.Tensor1D);
        L.bnVar = tf.keep(take(`L${L.index}/bn_var`, [W]) as tf.Tensor1D);
      }
      if (L.lo && L.hi) {
        L.lo.dispose();
        L.hi.dispose();
        L.lo = tf.keep(take(`L${L.index}/lo`, [W]) as tf.Tensor1D);
        L.hi = tf.keep(take(`L${L.index}/hi`, [W]) as tf.Tensor1D);
      }
    }
  }

  dispose(): void {
    for (const { variable } of this.trainables()) variable.dispose();
    for (const L of this.layers) for (const t of [L.bnMean, L.bnVar, L.lo, L.hi]) t?.dispose();
  }
}

/** A batch's targets as tensors: one-hot [B, C] + class indices (classification) or values [B, 1]. */
export interface BatchTargets {
  target: tf.Tensor2D;
  labels?: tf.Tensor1D;
}

export function makeTargets(task: ModelDims['task'], outputDim: number, y: Float32Array): BatchTargets {
  if (task === 'regression') return { target: tf.tensor2d(y, [y.length, 1]) };
  const oneHot = new Float32Array(y.length * outputDim);
  const labels = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    labels[i] = y[i];
    oneHot[i * outputDim + labels[i]] = 1;
  }
  return { target: tf.tensor2d(oneHot, [y.length, outputDim]), labels: tf.tensor1d(labels, 'int32') };
}

export function disposeTargets(t: BatchTargets): void {
  t.target.dispose();
  t.labels?.dispose();
}
