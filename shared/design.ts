// The designer's compiler (pure TS): a stack of DesignBlocks + training settings → a NetworkSpecInput, or
// field-level issues naming the block and field. The engine trains exactly one shape:
//   input → [Dense(width) → BatchNorm? → activation (+ identity skip?)] × depth → Dense(output)
// written either as a Repeat group or as the same hidden block written out several times. Anything else is
// reported with the precise reason it cannot be trained yet.
import type { DesignBlock } from './api.js';
import { NetworkSpecSchema, formatIssues, type NetworkSpecInput, type ActivationKind } from './spec.js';
import { ACTIVATIONS, FIXED_ACTIVATION_TABLE, FIXED_ACTIVATIONS, type ParamlessActivation } from './activations.js';
import { nothingFor } from './exhaustive.js';
import { BOUNDS_MODES, isOneOf, type BoundsMode } from './vocab.js';

export interface DesignIssue {
  /** Path of block indices from the top of the stack (nested in repeats), or [] for the design as a whole. */
  path: number[];
  /** The block's (or training settings') field the message is about, e.g. `degree`, `bounds`, `width`, `kind`. */
  field: string;
  message: string;
}

export type CompileResult =
  | { ok: true; spec: NetworkSpecInput; hidden: HiddenUnit; depth: number; outputWidth: number }
  | { ok: false; issues: DesignIssue[] };

/** One hidden block as the engine sees it. */
export interface HiddenUnit {
  width: number;
  batchNorm: boolean;
  residual: boolean;
  activation: ActivationKind;
  degree?: number;
  eps?: number;
  bounds?: [number, number];
  boundsMode?: BoundsMode;
  alpha?: number;
}

export const BLOCK_LABEL: Record<DesignBlock['kind'], string> = {
  dense: 'Dense',
  batchnorm: 'BatchNorm',
  bernstein: 'Bernstein',
  ...(Object.fromEntries(FIXED_ACTIVATIONS.map((k) => [k, FIXED_ACTIVATION_TABLE[k].blockLabel])) as Record<
    (typeof FIXED_ACTIVATIONS)[number],
    string
  >),
  residual: 'Residual skip',
  repeat: 'Repeat',
};

export type ActivationBlock = Extract<DesignBlock, { kind: ActivationKind }>;
const ACTIVATION_KINDS = new Set<DesignBlock['kind']>(ACTIVATIONS);
export const isActivation = (b: DesignBlock): b is ActivationBlock => ACTIVATION_KINDS.has(b.kind);

/** A fresh block with sensible defaults (what the palette drops). */
export function defaultBlock(kind: DesignBlock['kind']): DesignBlock {
  switch (kind) {
    case 'dense':
      return { kind, width: 100 };
    case 'bernstein':
      return { kind, degree: 9, eps: 0.01, bounds: [-5, 5], boundsMode: 'fixed' };
    case 'leaky_relu':
      return { kind, alpha: 0.01 };
    case 'repeat':
      return { kind, times: 10, blocks: [] };
    default:
      return { kind };
  }
}

/** Human text for a position: `block 3` or `block 2.1` (1-based, nested in a repeat). */
export function blockName(path: number[]): string {
  return path.length ? `block ${path.map((i) => i + 1).join('.')}` : 'design';
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Field checks of one block (not its place in the stack). Ranges mirror shared/spec.ts. */
export function blockFieldIssues(b: DesignBlock, path: number[]): DesignIssue[] {
  const out: DesignIssue[] = [];
  const bad = (field: string, message: string) => out.push({ path, field, message });
  switch (b.kind) {
    case 'dense':
      if (!isInt(b.width) || b.width < 1 || b.width > 8192) bad('width', 'width must be an integer between 1 and 8192');
      break;
    case 'bernstein': {
      if (!isInt(b.degree) || b.degree < 1 || b.degree > 64)
        bad('degree', 'degree n must be an integer between 1 and 64');
      if (!isNum(b.eps) || b.eps < 0 || b.eps > 10) bad('eps', 'ε must be a number ≥ 0 and ≤ 10');
      const [l, u] = Array.isArray(b.bounds) ? b.bounds : [NaN, NaN];
      if (!isNum(l) || !isNum(u)) bad('bounds', 'bounds must be two finite numbers [l, u]');
      else if (!(l < u)) bad('bounds', `bounds must satisfy l < u (got l=${l}, u=${u})`);
      if (!isOneOf(BOUNDS_MODES, b.boundsMode)) bad('boundsMode', `bounds mode must be ${BOUNDS_MODES.join(' or ')}`);
      break;
    }
    case 'leaky_relu':
      if (!isNum(b.alpha) || b.alpha < 0 || b.alpha > 1) bad('alpha', 'α must be a number ≥ 0 and ≤ 1');
      break;
    case 'repeat':
      if (!isInt(b.times) || b.times < 1 || b.times > 1000)
        bad('times', 'depth (repeat count) must be an integer between 1 and 1000');
      if (!Array.isArray(b.blocks) || b.blocks.length === 0)
        bad('blocks', 'the repeat group is empty: drop a Dense and an activation into it');
      break;
    default:
      nothingFor<'batchnorm' | 'residual' | ParamlessActivation>(b.kind); // no fields to check
  }
  return out;
}

/** Every block's field issues, recursively (for inline validation in the designer). */
export function allFieldIssues(blocks: DesignBlock[], prefix: number[] = []): DesignIssue[] {
  const out: DesignIssue[] = [];
  blocks.forEach((b, i) => {
    const p = [...prefix, i];
    out.push(...blockFieldIssues(b, p));
    if (b.kind === 'repeat' && Array.isArray(b.blocks)) out.push(...allFieldIssues(b.blocks, p));
  });
  return out;
}

interface Flat {
  block: DesignBlock;
  path: number[];
}

function unitSignature(u: HiddenUnit): string {
  return JSON.stringify(u);
}

/** Group a flat, repeat-free block sequence into hidden units; first issue wins per unit. */
function parseUnits(seq: Flat[], issues: DesignIssue[]): { units: { unit: HiddenUnit; at: Flat }[] } {
  const units: { unit: HiddenUnit; at: Flat }[] = [];
  let i = 0;
  const stop = () => {
    i = seq.length;
  };
  while (i < seq.length) {
    const start = seq[i];
    let residual = false;
    if (seq[i].block.kind === 'residual') {
      residual = true;
      i++;
      if (i >= seq.length) {
        issues.push({
          path: start.path,
          field: 'kind',
          message: `${blockName(start.path)}: a Residual skip must wrap a hidden block — put it before a Dense or after an activation`,
        });
        break;
      }
    }
    const d = seq[i];
    if (d.block.kind !== 'dense') {
      const what = BLOCK_LABEL[d.block.kind];
      const msg = isActivation(d.block)
        ? `${blockName(d.path)}: ${what} needs a Dense before it — hidden blocks are Dense → BatchNorm? → activation`
        : d.block.kind === 'batchnorm'
          ? `${blockName(d.path)}: BatchNorm must follow a Dense (the engine normalises the Dense output before the activation)`
          : `${blockName(d.path)}: ${what} can't start a hidden block — start it with a Dense`;
      issues.push({ path: d.path, field: 'kind', message: msg });
      stop();
      break;
    }
    const width = (d.block as { width: number }).width;
    i++;
    let batchNorm = false;
    if (i < seq.length && seq[i].block.kind === 'batchnorm') {
      batchNorm = true;
      i++;
    }
    const a = i < seq.length ? seq[i].block : undefined;
    if (!a || !isActivation(a)) {
      const nxt = seq[i];
      let msg: string;
      if (!nxt)
        msg = `${blockName(d.path)}: Dense(${width}) needs an activation after it (${ACTIVATIONS.map((k) => BLOCK_LABEL[k]).join(', ')})`;
      else if (nxt.block.kind === 'batchnorm')
        msg = `${blockName(nxt.path)}: two BatchNorms in a row aren't supported — one BatchNorm between Dense and the activation`;
      else if (nxt.block.kind === 'dense')
        msg = `${blockName(d.path)}: Dense(${width}) is followed by another Dense with no activation between — stacked linear layers aren't trained yet; add an activation`;
      else if (nxt.block.kind === 'residual')
        msg = `${blockName(nxt.path)}: a Residual skip inside a hidden block isn't supported — put it after the activation`;
      else
        msg = `${blockName(nxt.path)}: ${BLOCK_LABEL[nxt.block.kind]} can't follow Dense here — expected an activation`;
      issues.push({ path: nxt ? nxt.path : d.path, field: nxt ? 'kind' : 'kind', message: msg });
      stop();
      break;
    }
    i++;
    if (i < seq.length && seq[i].block.kind === 'batchnorm') {
      issues.push({
        path: seq[i].path,
        field: 'kind',
        message: `${blockName(seq[i].path)}: BatchNorm after the activation isn't supported yet — the engine puts BatchNorm between Dense and the activation`,
      });
      stop();
      break;
    }
    if (!residual && i < seq.length && seq[i].block.kind === 'residual') {
      // A skip after the activation closes this unit (one before a Dense would open the next one).
      residual = true;
      i++;
    }
    const unit: HiddenUnit = { width, batchNorm, residual, activation: a.kind };
    if (a.kind === 'bernstein')
      Object.assign(unit, {
        degree: a.degree,
        eps: a.eps,
        bounds: [a.bounds[0], a.bounds[1]],
        boundsMode: a.boundsMode,
      });
    if (a.kind === 'leaky_relu') unit.alpha = a.alpha;
    units.push({ unit, at: d });
  }
  return { units };
}

function describeDiff(a: HiddenUnit, b: HiddenUnit): { field: string; text: string } {
  if (a.width !== b.width) return { field: 'width', text: `width ${b.width} vs ${a.width}` };
  if (a.activation !== b.activation) return { field: 'kind', text: `activation ${b.activation} vs ${a.activation}` };
  if (a.batchNorm !== b.batchNorm)
    return { field: 'kind', text: `BatchNorm ${b.batchNorm ? 'on' : 'off'} vs ${a.batchNorm ? 'on' : 'off'}` };
  if (a.residual !== b.residual)
    return { field: 'kind', text: `residual skip ${b.residual ? 'on' : 'off'} vs ${a.residual ? 'on' : 'off'}` };
  for (const f of ['degree', 'eps', 'alpha', 'boundsMode'] as const)
    if (a[f] !== b[f]) return { field: f, text: `${f} ${b[f]} vs ${a[f]}` };
  return { field: 'bounds', text: `bounds [${b.bounds}] vs [${a.bounds}]` };
}

export interface CompileOptions {
  /** The dataset's output width; when given, the output Dense must match it. */
  outputDim?: number;
}

/** Compile a designer stack and training settings into a spec the engine trains, or say precisely why not. */
export function compileDesign(
  blocks: DesignBlock[],
  training: Partial<NetworkSpecInput> = {},
  opts: CompileOptions = {},
): CompileResult {
  const issues = allFieldIssues(blocks);
  if (blocks.length === 0)
    return {
      ok: false,
      issues: [
        {
          path: [],
          field: 'blocks',
          message: 'the stack is empty: drop a Repeat group with Dense → BatchNorm → Bernstein, then an output Dense',
        },
      ],
    };
  if (issues.length) return { ok: false, issues };

  // The output layer: the last top-level block, a Dense.
  const last = blocks[blocks.length - 1];
  const lastPath = [blocks.length - 1];
  if (last.kind !== 'dense') {
    const hasDense = JSON.stringify(blocks).includes('"dense"');
    return {
      ok: false,
      issues: [
        {
          path: lastPath,
          field: 'kind',
          message: hasDense
            ? `${blockName(lastPath)}: the stack must end with an output Dense (the layer that maps to the dataset's outputs); found ${BLOCK_LABEL[last.kind]}`
            : `missing Dense: the network needs Dense layers — hidden Dense(width) blocks and an output Dense at the end`,
        },
      ],
    };
  }
  if (opts.outputDim !== undefined && last.width !== opts.outputDim) {
    return {
      ok: false,
      issues: [
        {
          path: lastPath,
          field: 'width',
          message: `${blockName(lastPath)}: the output Dense must have the dataset's output width ${opts.outputDim} (got ${last.width})`,
        },
      ],
    };
  }

  // Flatten hidden part: repeats expand; nested repeats multiply.
  const out: DesignIssue[] = [];
  const seqUnits: { unit: HiddenUnit; at: Flat }[] = [];
  let depth = 0;
  const hiddenTop = blocks.slice(0, -1);
  if (hiddenTop.length === 0) {
    return {
      ok: false,
      issues: [
        {
          path: lastPath,
          field: 'kind',
          message:
            'no hidden layers: add [Dense → BatchNorm? → activation] (e.g. a Repeat group) before the output Dense',
        },
      ],
    };
  }
  // Walk top level: consecutive non-repeat blocks form written-out units; a repeat contributes times × its units.
  let run: Flat[] = [];
  const flushRun = () => {
    if (!run.length) return;
    const { units } = parseUnits(run, out);
    seqUnits.push(...units);
    depth += units.length;
    run = [];
  };
  const repeatUnits = (
    b: Extract<DesignBlock, { kind: 'repeat' }>,
    path: number[],
  ): { units: { unit: HiddenUnit; at: Flat }[]; count: number } => {
    // Inside a repeat: inner repeats allowed (depth multiplies) only if the body is exactly that repeat.
    if (b.blocks.length === 1 && b.blocks[0].kind === 'repeat') {
      const inner = repeatUnits(b.blocks[0], [...path, 0]);
      return { units: inner.units, count: inner.count * b.times };
    }
    if (b.blocks.some((x) => x.kind === 'repeat')) {
      const j = b.blocks.findIndex((x) => x.kind === 'repeat');
      out.push({
        path: [...path, j],
        field: 'kind',
        message: `${blockName([...path, j])}: a Repeat inside a Repeat next to other blocks isn't supported — nest only a whole group, or write the blocks out`,
      });
      return { units: [], count: 0 };
    }
    const { units } = parseUnits(
      b.blocks.map((block, j) => ({ block, path: [...path, j] })),
      out,
    );
    if (units.length === 0 && out.length === 0) {
      out.push({
        path,
        field: 'blocks',
        message: `${blockName(path)}: the repeat group has no hidden block (Dense → activation)`,
      });
    }
    return { units, count: units.length * b.times };
  };
  hiddenTop.forEach((b, i) => {
    if (out.length) return;
    if (b.kind === 'repeat') {
      flushRun();
      if (out.length) return;
      const r = repeatUnits(b, [i]);
      seqUnits.push(...r.units);
      depth += r.count;
    } else run.push({ block: b, path: [i] });
  });
  if (!out.length) flushRun();
  if (out.length) return { ok: false, issues: out.slice(0, 1) };
  if (seqUnits.length === 0)
    return { ok: false, issues: [{ path: [0], field: 'kind', message: 'no hidden layers found' }] };

  const first = seqUnits[0].unit;
  const sig = unitSignature(first);
  for (const { unit, at } of seqUnits.slice(1)) {
    if (unitSignature(unit) !== sig) {
      const d = describeDiff(first, unit);
      const field = d.field === 'width' ? 'width' : d.field;
      return {
        ok: false,
        issues: [
          {
            path: at.path,
            field,
            message: `${blockName(at.path)}: hidden blocks differ (${d.text} in ${blockName(seqUnits[0].at.path)}) — the engine repeats one hidden block; mixed stacks can't be trained yet`,
          },
        ],
      };
    }
  }
  if (depth > 1000)
    return {
      ok: false,
      issues: [
        { path: [0], field: 'times', message: `depth ${depth} is more than the engine's limit of 1000 hidden layers` },
      ],
    };

  const spec: NetworkSpecInput = {
    ...(training as NetworkSpecInput),
    depth,
    width: first.width,
    activation: first.activation,
    batchNorm: first.batchNorm,
    residual: first.residual,
  };
  if (first.activation === 'bernstein')
    Object.assign(spec, { degree: first.degree, eps: first.eps, bounds: first.bounds, boundsMode: first.boundsMode });
  if (first.activation === 'leaky_relu') spec.alpha = first.alpha;

  // Training settings: validate the whole spec; a missing dataset is allowed here (the sweep builder picks one).
  const probe = NetworkSpecSchema.safeParse({ ...spec, dataset: spec.dataset ?? 'x' });
  if (!probe.success) {
    return {
      ok: false,
      issues: probe.error.issues.map((iss, k) => ({
        path: [],
        field: String(iss.path[0] ?? 'training'),
        message: formatIssues(probe.error)[k],
      })),
    };
  }
  return { ok: true, spec, hidden: first, depth, outputWidth: last.width };
}

type ParamSpec = Pick<NetworkSpecInput, 'depth' | 'width' | 'activation' | 'degree' | 'batchNorm' | 'bnAffine'>;

/** Trainable parameters, as the engine counts them: Dense W+b; BatchNorm 0, or γ+β with bnAffine; Bernstein (n+1)/unit. */
export function paramCount(spec: ParamSpec, inputDim: number, outputDim: number): number {
  const { depth, width } = spec;
  const n = spec.degree ?? 9;
  let p = inputDim * width + width; // first hidden Dense
  p += (depth - 1) * (width * width + width); // the other hidden Dense layers
  if (spec.activation === 'bernstein') p += depth * width * (n + 1); // a and θ_1..θ_n per unit
  if ((spec.batchNorm ?? spec.activation === 'bernstein') && spec.bnAffine) p += depth * 2 * width; // γ, β per unit
  p += width * outputDim + outputDim; // output Dense
  return p;
}

/** Reverse: a run's spec as designer blocks — Repeat(depth)[Dense → BatchNorm? → activation → skip?] → Dense(out). */
export function specToBlocks(spec: NetworkSpecInput, outputDim = 1): DesignBlock[] {
  const body: DesignBlock[] = [{ kind: 'dense', width: spec.width }];
  const bn = spec.batchNorm ?? spec.activation === 'bernstein';
  if (bn) body.push({ kind: 'batchnorm' });
  switch (spec.activation) {
    case 'bernstein': {
      const b = spec.bounds ?? [-5, 5];
      body.push({
        kind: 'bernstein',
        degree: spec.degree ?? 9,
        eps: spec.eps ?? 0.01,
        bounds: [b[0], b[1]],
        boundsMode: spec.boundsMode ?? 'fixed',
      });
      break;
    }
    case 'leaky_relu':
      body.push({ kind: 'leaky_relu', alpha: spec.alpha ?? 0.01 });
      break;
    default:
      body.push({ kind: spec.activation });
  }
  if (spec.residual) body.push({ kind: 'residual' });
  return [
    { kind: 'repeat', times: spec.depth, blocks: body },
    { kind: 'dense', width: outputDim },
  ];
}

/** Training settings of a spec (everything that isn't drawn as blocks). */
export function trainingOf(spec: Partial<NetworkSpecInput>): Partial<NetworkSpecInput> {
  const t: Record<string, unknown> = { ...spec };
  for (const k of [
    'depth',
    'width',
    'activation',
    'degree',
    'eps',
    'bounds',
    'boundsMode',
    'alpha',
    'batchNorm',
    'residual',
  ])
    delete t[k];
  return t as Partial<NetworkSpecInput>;
}

/** Identity initial coefficients c_k = l + (u−l)k/n; with ε > 0 the re-parameterised steps are at least ε. */
export function identityCoefficients(degree: number, l: number, u: number): number[] {
  return Array.from({ length: degree + 1 }, (_, k) => l + ((u - l) * k) / degree);
}
