// Metric keys stored per epoch and per layer (definitions: DESIGN §1.4 and docs/metrics.md).

export const EPOCH_METRICS = [
  'train_loss',
  'train_acc',
  'test_loss',
  'test_acc',
  /** Mean |∂loss/∂a₁| over first-layer units and evaluation samples. */
  'mag1',
  /** Network-wide fraction of dead units (|σ'| < τ on every sample of the fixed evaluation batch, eval mode). */
  'dead_ratio',
  /**
   * The paper's reading: per training mini-batch, the fraction of hidden units with |σ'| < τ on every sample
   * of that batch (training mode, inside the step), averaged over the epoch's batches.
   */
  'dead_ratio_epoch',
  /** Network-wide fraction of Bernstein pre-activations outside [l,u]. */
  'clipped_frac',
  'epoch_time_s',
  'probe_time_s',
  /** Wall time the dead_ratio_epoch reading took inside the epoch's training steps (part of epoch_time_s). */
  'dead_time_s',
  'lr',
  /** Regression on a 1-D target (approximation lab): max |N(x) − f(x)| on the dense test grid. */
  'max_abs_err',
  /** Approximation lab: max |N(x) − f(x)| on the validation grid (disjoint from the test grid; selection reads it). */
  'val_max_err',
] as const;
export type EpochMetric = (typeof EPOCH_METRICS)[number];

export const LAYER_METRICS = [
  /** Eval-batch reading: |σ'| < τ on every sample of the fixed evaluation batch (eval mode). */
  'dead_ratio',
  /** The paper's reading per layer: the batch-wise dead fraction averaged over the epoch's training batches. */
  'dead_ratio_epoch',
  /** min |σ'(z)| over units × samples (Bernstein: over pre-activations inside [l,u]). */
  'min_dsigma',
  /** Bernstein only: n/(u−l)·min_k(c_{k+1}−c_k) from the learned coefficients. */
  'learned_floor',
  /** Bernstein only: fraction of pre-activations outside [l,u]. */
  'clipped_frac',
  /** L2 norm of the gradient of the layer's weight matrix. */
  'grad_norm',
] as const;
export type LayerMetric = (typeof LAYER_METRICS)[number];

export interface LayerMetricRow {
  /** 1-based hidden layer index. */
  layer: number;
  metric: LayerMetric;
  value: number;
}

export interface EpochReport {
  epoch: number; // 1-based
  metrics: Partial<Record<EpochMetric, number>>;
  layers: LayerMetricRow[];
}

/**
 * A run's states (docs/cli.md "Run states"). `interrupted`: its owner (the process that trained it) stopped
 * without finishing it — killed, crashed, shut down, or lost its lease — so it resumes from its last checkpoint.
 */
export const RUN_STATUSES = [
  'queued',
  'running',
  'finished',
  'failed',
  'cancelled',
  'diverged',
  'pruned',
  'interrupted',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** States a run ends in for good (a resume of its sweep skips them). */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['finished', 'failed', 'diverged', 'pruned'];
/** States a sweep resume (or a run resume) queues again from the last checkpoint. */
export const RESUMABLE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'cancelled', 'interrupted'];
/** A sweep's states; `interrupted` as for runs: its owner stopped without finishing it. */
export const SWEEP_STATUSES = ['queued', 'running', 'finished', 'cancelled', 'failed', 'interrupted'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];
