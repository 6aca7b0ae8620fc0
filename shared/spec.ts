// The network spec: one training run's full design. Flat on purpose, so sweep files can vary any field by name.
import { z } from 'zod';
import { ACTIVATIONS, BERNSTEIN, FIXED_ACTIVATION_TABLE, type ActivationKind } from './activations.js';
import { BOUNDS_MODES } from './vocab.js';

export { ACTIVATIONS, type ActivationKind };

export const OPTIMIZERS = ['adam', 'sgd'] as const;
export { BOUNDS_MODES };

/**
 * Weight/bias initialisation schemes (docs/init.md states each one's weight and bias rule). `torch` is PyTorch's
 * nn.Linear default: W and b ~ U(−1/√fan_in, 1/√fan_in).
 */
export const INIT_SCHEMES = [
  'torch',
  'he_normal',
  'he_uniform',
  'lecun_normal',
  'xavier_uniform',
  'xavier_normal',
] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];

/**
 * The scheme the engine used before `init` was a spec field (and still uses when a spec omits it): He-normal
 * for the rectifier-like activations, LeCun-normal for SELU (its self-normalising fixed point assumes it) and
 * Bernstein (identity at init, so linear). Old runs' specs lack the field; this names what they actually used.
 */
export function defaultInit(activation: ActivationKind): InitScheme {
  return activation === BERNSTEIN ? 'lecun_normal' : FIXED_ACTIVATION_TABLE[activation].defaultInit;
}

const int = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be an integer between ${min} and ${max}` })
    .min(min, { error: `${name} must be an integer between ${min} and ${max}` })
    .max(max, { error: `${name} must be an integer between ${min} and ${max}` });

const num = (name: string, min: number, max: number, exclusiveMin = false) => {
  const range = `${exclusiveMin ? '>' : '≥'} ${min} and ≤ ${max}`;
  const base = z.number({ error: `${name} must be a number ${range}` }).max(max, { error: `${name} must be ${range}` });
  return exclusiveMin
    ? base.gt(min, { error: `${name} must be ${range}` })
    : base.min(min, { error: `${name} must be ${range}` });
};

const NetworkSpecObject = z
  .object({
    /** Dataset id: `synthetic-higgs`, `mnist`, `higgs`, `susy`, `fn:<name>`, or an imported dataset's id. */
    dataset: z
      .string({ error: 'dataset must be a dataset id, e.g. synthetic-higgs or mnist' })
      .min(1, { error: 'dataset must not be empty' }),
    /** Rows to use (train + test); generated/sampled sets honour it, imported sets take their first rows. */
    rows: int('rows', 10, 20_000_000).optional(),
    testFraction: num('testFraction', 0, 0.9, true).default(0.2),
    depth: int('depth', 1, 1000),
    width: int('width', 1, 8192),
    activation: z.enum(ACTIVATIONS, { error: `activation must be one of ${ACTIVATIONS.join(', ')}` }),
    degree: int('degree', 1, 64).default(9),
    eps: num('eps', 0, 10).default(0.01),
    bounds: z
      .tuple(
        [z.number({ error: 'bounds must be two numbers l,u' }), z.number({ error: 'bounds must be two numbers l,u' })],
        {
          error: 'bounds must be two numbers [l, u] with l < u',
        },
      )
      .default([-5, 5]),
    boundsMode: z.enum(BOUNDS_MODES, { error: `boundsMode must be ${BOUNDS_MODES.join(' or ')}` }).default('fixed'),
    /** Adaptive bounds: running min/max momentum (ours; DESIGN §1.2). */
    boundsMomentum: num('boundsMomentum', 0, 1).default(0.9),
    alpha: num('alpha', 0, 1).default(0.01),
    /** Batch norm before each activation. Default: on for Bernstein, off for the plain baselines (DESIGN §1.3). */
    batchNorm: z.boolean({ error: 'batchNorm must be true or false' }).optional(),
    /** Batch norm with learnable per-unit scale γ (init 1) and shift β (init 0), as PyTorch's affine=True. */
    bnAffine: z.boolean({ error: 'bnAffine must be true or false' }).default(false),
    residual: z.boolean({ error: 'residual must be true or false' }).default(false),
    /** Weight/bias initialisation (docs/init.md). Default: defaultInit(activation), what the engine always used. */
    init: z.enum(INIT_SCHEMES, { error: `init must be one of ${INIT_SCHEMES.join(', ')}` }).optional(),
    optimizer: z.enum(OPTIMIZERS, { error: `optimizer must be one of ${OPTIMIZERS.join(', ')}` }).default('adam'),
    lr: num('lr', 0, 10, true).default(1e-3),
    batchSize: int('batchSize', 1, 65_536).default(256),
    epochs: int('epochs', 1, 100_000).default(10),
    seed: int('seed', 0, 2 ** 31 - 1).default(0),
    /** Dead-unit threshold τ on |σ'| (ours; DESIGN §1.4). */
    tau: num('tau', 0, 1).default(1e-6),
    /** Samples in the fixed evaluation batch the probes use. */
    evalBatch: int('evalBatch', 1, 65_536).default(512),
  })
  .strict();

/** Every field name of a network spec (what sweeps may vary). */
export const SPEC_FIELDS = Object.keys(NetworkSpecObject.shape) as (keyof z.output<typeof NetworkSpecObject>)[];

export const NetworkSpecSchema = NetworkSpecObject.superRefine((s, ctx) => {
  if (!(s.bounds[0] < s.bounds[1])) {
    ctx.addIssue({
      code: 'custom',
      path: ['bounds'],
      message: `bounds must satisfy l < u (got l=${s.bounds[0]}, u=${s.bounds[1]})`,
    });
  }
  if (![s.bounds[0], s.bounds[1]].every(Number.isFinite)) {
    ctx.addIssue({ code: 'custom', path: ['bounds'], message: 'bounds must be finite numbers' });
  } else if (s.bounds[0] < s.bounds[1]) {
    // The engine computes in float32: l, u, u − l and 1/(u − l) must all be finite, normal float32 numbers,
    // or every unit diverges at batch 1 (overflow) or is dead (l and u round to the same float32).
    const l = Math.fround(s.bounds[0]);
    const u = Math.fround(s.bounds[1]);
    const width = Math.fround(u - l);
    if (!Number.isFinite(l) || !Number.isFinite(u)) {
      ctx.addIssue({
        code: 'custom',
        path: ['bounds'],
        message: `bounds must be within the float32 range ±3.4028235e38 (got l=${s.bounds[0]}, u=${s.bounds[1]})`,
      });
    } else if (!Number.isFinite(width)) {
      ctx.addIssue({
        code: 'custom',
        path: ['bounds'],
        message: `bounds: the width u − l overflows float32 (got l=${s.bounds[0]}, u=${s.bounds[1]}; keep u − l below 3.4e38)`,
      });
    } else if (!(width >= FLOAT32_MIN_NORMAL) || !Number.isFinite(Math.fround(1 / width))) {
      ctx.addIssue({
        code: 'custom',
        path: ['bounds'],
        message: `bounds: the width u − l underflows float32 (got l=${s.bounds[0]}, u=${s.bounds[1]}: ${width === 0 ? 'l and u are the same float32 number, about 7 significant digits' : 'as float32 numbers l and u must differ by at least 1.2e-38'})`,
      });
    }
  }
});
/** float32's smallest normal number: a narrower width loses precision (subnormal) or rounds to 0. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

export type NetworkSpecInput = z.input<typeof NetworkSpecSchema>;
type ParsedSpec = z.output<typeof NetworkSpecSchema>;
/** A validated spec with every default filled in (batchNorm and init resolved). */
export type NetworkSpec = Omit<ParsedSpec, 'batchNorm' | 'init'> & { batchNorm: boolean; init: InitScheme };

export class SpecError extends Error {
  constructor(readonly issues: string[]) {
    super(issues.join('; '));
    this.name = 'SpecError';
  }
}

/** One readable line per problem: `field: what is wrong and what is allowed`. */
export function formatIssues(error: z.ZodError, input?: unknown): string[] {
  return error.issues.map((i) => {
    const path = i.path.join('.');
    if (i.code === 'unrecognized_keys') return `unknown field${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')}`;
    const missing = i.path.length === 1 && input !== null && typeof input === 'object' && !(String(i.path[0]) in input);
    if (missing) return `${path}: is required`;
    return path && !i.message.startsWith(path) ? `${path}: ${i.message}` : i.message;
  });
}

export function parseSpec(input: unknown): NetworkSpec {
  const r = NetworkSpecSchema.safeParse(input);
  if (!r.success) throw new SpecError(formatIssues(r.error, input));
  return {
    ...r.data,
    batchNorm: r.data.batchNorm ?? r.data.activation === 'bernstein',
    init: r.data.init ?? defaultInit(r.data.activation),
  };
}

/**
 * A stored spec from before `init` / `bnAffine` existed, completed with what that run actually used (the
 * activation's default init, non-affine batch norm). Complete specs come back unchanged.
 */
export function withLegacyDefaults<T extends Partial<NetworkSpec> & { activation: ActivationKind }>(
  spec: T,
): T & Pick<NetworkSpec, 'init' | 'bnAffine'> {
  return { ...spec, init: spec.init ?? defaultInit(spec.activation), bnAffine: spec.bnAffine ?? false };
}

/** Paper-style label, e.g. `Bern_{9,0.01}[-5,5]`, `LReLU_0.01`, `ReLU_res`, `SELU_BN`. */
export function activationLabel(s: NetworkSpec): string {
  if (s.activation === 'bernstein') {
    const b = s.boundsMode === 'adaptive' ? 'adaptive' : `[${s.bounds[0]},${s.bounds[1]}]`;
    return `Bern_{${s.degree},${s.eps}}${b}`;
  }
  const a = FIXED_ACTIVATION_TABLE[s.activation];
  const base = a.label + a.params.map((p) => `_${s[p]}`).join('');
  return base + (s.batchNorm ? '_BN' : '') + (s.residual ? '_res' : '');
}
