// `deepbern train` flags → a validated NetworkSpec. Validation is the spec's own (shared/spec.ts).
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import YAML from 'yaml';
import { ACTIVATIONS, INIT_SCHEMES, parseSpec, type NetworkSpec } from '../../shared/spec.js';
import { numberFlag, UserError } from './errors.js';

/** What `deepbern train` trains when neither a flag nor the spec file says. */
export const TRAIN_DEFAULTS = { dataset: 'synthetic-higgs', depth: 20, width: 100, activation: 'bernstein' } as const;

export function addSpecOptions(cmd: Command): Command {
  return cmd
    .option('--spec <file>', 'a JSON/YAML network spec file; flags override its fields')
    .option(
      '--dataset <id>',
      'synthetic-higgs (default) | mnist | fn:smooth | fn:osc | fn:kink | fn:runge | fn:sinexp | an imported dataset id',
    )
    .option('--rows <n>', 'rows to use (train + test)', numberFlag('--rows'))
    .option('--test-fraction <f>', 'fraction held out for test (default 0.2)', numberFlag('--test-fraction'))
    .option('--depth <n>', `hidden layers (default ${TRAIN_DEFAULTS.depth})`, numberFlag('--depth'))
    .option('--width <n>', `units per hidden layer (default ${TRAIN_DEFAULTS.width})`, numberFlag('--width'))
    .addOption(
      new Option('--activation <kind>', `activation (default ${TRAIN_DEFAULTS.activation})`).choices([...ACTIVATIONS]),
    )
    .option('--degree <n>', 'Bernstein degree n ≥ 1 (default 9)', numberFlag('--degree'))
    .option('--eps <ε>', 'Bernstein derivative floor parameter ε ≥ 0 (default 0.01)', numberFlag('--eps'))
    .option('--bounds <l,u|adaptive>', 'Bernstein interval, e.g. -5,5, or "adaptive" (default -5,5)')
    .option('--alpha <α>', 'leaky ReLU slope (default 0.01)', numberFlag('--alpha'))
    .option('--batch-norm', 'batch norm before each activation (default: on for bernstein)')
    .option('--no-batch-norm', 'no batch norm')
    .option('--bn-affine', 'batch norm with learnable scale γ and shift β (PyTorch affine=True; default off)')
    .option('--no-bn-affine', 'batch norm without scale and shift')
    .option('--residual', 'identity skips around hidden blocks')
    .addOption(
      new Option(
        '--init <scheme>',
        'weight/bias initialisation, docs/init.md (default: he_normal for relu/leaky_relu/gelu, lecun_normal for selu/bernstein)',
      ).choices([...INIT_SCHEMES]),
    )
    .addOption(new Option('--optimizer <name>', 'optimiser (default adam)').choices(['adam', 'sgd']))
    .option('--lr <rate>', 'learning rate (default 0.001)', numberFlag('--lr'))
    .option('--batch-size <n>', 'mini-batch size (default 256)', numberFlag('--batch-size'))
    .option('--epochs <n>', 'epochs (default 10)', numberFlag('--epochs'))
    .option('--seed <n>', 'seed for init, shuffling and sampling (default 0)', numberFlag('--seed'))
    .option('--tau <τ>', "dead-unit threshold on |σ'| (default 1e-6)", numberFlag('--tau'))
    .option(
      '--eval-batch <n>',
      "samples in the probes' fixed evaluation batch (default 512)",
      numberFlag('--eval-batch'),
    );
}

export interface SpecFlags {
  spec?: string;
  dataset?: string;
  rows?: number;
  testFraction?: number;
  depth?: number;
  width?: number;
  activation?: string;
  degree?: number;
  eps?: number;
  bounds?: string;
  alpha?: number;
  batchNorm?: boolean;
  bnAffine?: boolean;
  residual?: boolean;
  init?: string;
  optimizer?: string;
  lr?: number;
  batchSize?: number;
  epochs?: number;
  seed?: number;
  tau?: number;
  evalBatch?: number;
}

function readSpecFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read spec file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let value: unknown;
  try {
    value = YAML.parse(text);
  } catch (e) {
    throw new UserError(`spec file ${path} is not valid JSON/YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UserError(`spec file ${path} must hold a mapping of spec fields`);
  return value as Record<string, unknown>;
}

export function specFromFlags(f: SpecFlags): NetworkSpec {
  const input: Record<string, unknown> = f.spec ? readSpecFile(f.spec) : {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined) input[k] = v;
  };
  set('dataset', f.dataset);
  set('rows', f.rows);
  set('testFraction', f.testFraction);
  set('depth', f.depth);
  set('width', f.width);
  set('activation', f.activation);
  set('degree', f.degree);
  set('eps', f.eps);
  set('alpha', f.alpha);
  set('batchNorm', f.batchNorm);
  set('bnAffine', f.bnAffine);
  set('residual', f.residual);
  set('init', f.init);
  set('optimizer', f.optimizer);
  set('lr', f.lr);
  set('batchSize', f.batchSize);
  set('epochs', f.epochs);
  set('seed', f.seed);
  set('tau', f.tau);
  set('evalBatch', f.evalBatch);
  if (f.bounds !== undefined) {
    if (f.bounds === 'adaptive') input.boundsMode = 'adaptive';
    else {
      const parts = f.bounds.split(',').map((s) => s.trim());
      const nums = parts.map(Number);
      if (parts.length !== 2 || parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n))) {
        throw new UserError(`--bounds must be two numbers l,u (e.g. -5,5) or "adaptive" (got "${f.bounds}")`);
      }
      input.bounds = nums;
    }
  }
  // Unset, the network is the designer's starting design: 20 blocks of dense 100 → batch norm → Bernstein.
  for (const [k, v] of Object.entries(TRAIN_DEFAULTS)) if (input[k] === undefined) input[k] = v;
  return parseSpec(input);
}
