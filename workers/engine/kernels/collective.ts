// The seam between the fused batch-norm kernels and a data-parallel run (workers/engine/threads/): while a
// replica computes its slice of a batch, `current` is set, and the kernels sum their per-unit partial sums with
// the other replicas' before normalising, so batch norm sees the whole batch. Null (the default, one thread):
// the kernels run exactly as before.

export interface Collective {
  /** Rows of the whole batch (every replica's slice together): the batch-norm divisor. */
  readonly batchRows: number;
  /**
   * Sums local[0..len) over the replicas, in rank order (the same bits on every replica), and returns the
   * totals in a view that is valid until the next call. Blocks until every replica has contributed.
   */
  allReduce(local: Float64Array, len: number): Float64Array;
}

let current: Collective | null = null;

export function activeCollective(): Collective | null {
  return current;
}

/** Set for the duration of one replica step; pass null after it (in a finally). */
export function setCollective(c: Collective | null): void {
  current = c;
}
