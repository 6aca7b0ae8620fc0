// Metric keys stored per epoch and per layer (definitions: DESIGN §1.4 and docs/metrics.md).

export const EPOCH_METRICS = [
  'train_loss',
  'train_acc',
  'test_loss',
  'test_acc',
  /** Mean |∂loss/∂a₁| over first-layer units and evaluation samples. */
  'mag1',
  /** Network-wide fraction of dead units (|σ'| < τ on every evaluation sample). */
  'dead_ratio',
  /** Network-wide fraction of Bernstein pre-activations outside [l,u]. */
  'clipped_frac',
  'epoch_time_s',
  'probe_time_s',
  'lr',
  /** Regression on a 1-D target (approximation lab): max |N(x) − f(x)| on the dense test grid. */
  'max_abs_err',
] as const;
export type EpochMetric = (typeof EPOCH_METRICS)[number];

export const LAYER_METRICS = [
  'dead_ratio',
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
export const RUN_STATUSES = ['queued', 'running', 'finished', 'failed', 'cancelled', 'diverged', 'pruned', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** States a run ends in for good (a resume of its sweep skips them). */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['finished', 'failed', 'diverged', 'pruned'];
/** States a sweep resume (or a run resume) queues again from the last checkpoint. */
export const RESUMABLE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'cancelled', 'interrupted'];
/** A sweep's states; `interrupted` as for runs: its owner stopped without finishing it. */
export const SWEEP_STATUSES = ['queued', 'running', 'finished', 'cancelled', 'failed', 'interrupted'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];
