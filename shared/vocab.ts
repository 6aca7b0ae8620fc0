// The small vocabularies the contract, the spec, sweep files, datasets and the store share: one constant each,
// the zod schemas and TypeScript types are built from these (activations: shared/activations.ts; metrics:
// shared/metrics.ts). A switch over one of them ends in an exhaustiveness check (shared/exhaustive.ts).

/** What a dataset's targets are: class labels (softmax cross-entropy, accuracy) or real values (MSE). */
export const TASK_KINDS = ['classification', 'regression'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** The file formats a dataset can be imported from (docs/dataset-file.md). */
export const IMPORT_KINDS = ['higgs', 'susy', 'csv', 'idx'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/** Where a dataset comes from: built in (generated or shipped), or imported from one of IMPORT_KINDS. */
export const DATASET_KINDS = ['builtin', ...IMPORT_KINDS] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/** Bernstein bounds [l, u]: fixed, or tracking the pre-activations' running min/max (DESIGN §1.2). */
export const BOUNDS_MODES = ['fixed', 'adaptive'] as const;
export type BoundsMode = (typeof BOUNDS_MODES)[number];

/** Which way a sweep's metric is better. */
export const GOALS = ['minimize', 'maximize'] as const;
export type Goal = (typeof GOALS)[number];

export const isOneOf = <T extends string>(values: readonly T[], v: unknown): v is T =>
  typeof v === 'string' && (values as readonly string[]).includes(v);
