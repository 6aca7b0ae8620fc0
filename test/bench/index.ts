// `npm run bench`: training steps/s of the four peer nets on tfjs-wasm (one thread), beside the PyTorch peer run
// in the same command. "ours" is the product's own trainer (train.ts trainRun with pickOps); "minimal" is a
// bare step on the same EngineOps with the fused coefficient kernel and FusedAdam (nets.ts): the gap between
// the two is the trainer's own overhead. Flags: --json, --no-torch, --no-product, --repeats N, --steps N,
// --torch-threads N (0 = torch's default), --ops fast|reference, --only <substring>, --threads N (the product
// trainer again on N threads, default every core; 1 = skip): the threads column and the scaling ratio; --no-sweep
// (skips the sweep row: the 8-run sweep through our pool vs one PyTorch run after another, test/bench/sweep-torch.ts).
// `npm run bench -- sweep`: local pool throughput with 1 vs 2 workers (test/bench/sweep.ts).
// `npm run bench -- import`: full-size HIGGS import, wall time and peak RSS (test/bench/import.ts).
// `npm run bench -- ui`: the workbench at scale: list pages, search, Compare fetches, bulk delete (test/bench/ui.ts).
// `npm run bench -- dead`: the epoch-average dead reading's cost as a share of the epoch (test/bench/dead-reading.ts).
// `npm run bench -- bayes`: TPE vs grid vs random on a closed-form stand-in objective (test/bench/bayes.ts).
// `npm run bench -- sweep-torch`: only the sweep row (8 runs through our pool vs one PyTorch run after another).
// `npm run bench -- gemm`: dense-layer products, XNNPACK vs our wasm SIMD GEMM (test/bench/gemm.ts).
// `npm run bench -- threads`: one run on 1 thread vs every core, the scaling ratio (test/bench/threads.ts).
import { availableParallelism, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../workers/engine/backend.js';
import { pickOps } from '../../workers/engine/kernels/index.js';
import { referenceOps } from '../../workers/engine/ops.js';
import { buildNet, PEER_NETS, type NetSpec } from './nets.js';
import { runPeer, torchAvailable, torchInfo, type PeerResult, type TorchInfo } from './peer.js';
import { sweepVsTorch, type SweepVsTorch } from './sweep-torch.js';
import { timeProduct } from './product.js';
import { sweepBench } from './sweep.js';
import { importBench } from './import.js';
import { uiBench } from './ui.js';
import { deadReadingBench } from './dead-reading.js';
import { bayesBench } from './bayes.js';
import { gemmBench } from './gemm.js';
import { threadsBench } from './threads.js';

interface Options {
  json: boolean;
  torch: boolean;
  product: boolean;
  repeats: number;
  steps: number | null;
  torchThreads: number;
  ops: 'fast' | 'reference';
  only: string | null;
  sweep: boolean;
  threads: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    json: false,
    torch: true,
    product: true,
    repeats: 3,
    steps: null,
    torchThreads: 0,
    ops: 'fast',
    only: null,
    sweep: true,
    threads: availableParallelism(),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--no-torch') o.torch = false;
    else if (a === '--no-product') o.product = false;
    else if (a === '--repeats') o.repeats = Number(next());
    else if (a === '--steps') o.steps = Number(next());
    else if (a === '--torch-threads') o.torchThreads = Number(next());
    else if (a === '--ops') o.ops = next() === 'reference' ? 'reference' : 'fast';
    else if (a === '--only') o.only = next();
    else if (a === '--no-sweep') o.sweep = false;
    else if (a === '--threads') o.threads = Number(next());
    else throw new Error(`unknown flag ${a}`);
  }
  return o;
}

/** Target ratio ours/torch from issue #16: Bernstein ≥ 4×, ReLU ≥ 0.6× (both sides free to use every core). */
const target = (s: NetSpec): number => (s.act === 'bern' ? 4 : 0.6);

interface Row {
  net: string;
  params: number;
  torchParams: number | null;
  /** The product trainer's steps/s (null with --no-product: then ratios use the minimal step). */
  ours: number | null;
  oursRuns: number[];
  minimal: number;
  minimalRuns: number[];
  torch: number | null;
  /** ours (one thread) / torch. */
  ratio: number | null;
  /** ours on every core (--threads N, the multi column) / torch; null without --threads. */
  ratioAllCores: number | null;
  target: number;
  /** The better of the two ratios against the target: a run may use every core, as PyTorch's does. */
  met: boolean | null;
  tensorsBefore?: number;
  tensorsAfter?: number;
  tensorSteps?: number;
  peakRssMB?: number;
  /** The product trainer on every core (--threads): steps/s, its ratio to one thread, RSS sampled per run. */
  multi?: MultiThreadFigures;
}

interface MultiThreadFigures {
  threads: number;
  stepsPerSec: number;
  epochRates: number[];
  scaling: number;
  rssOneMB: number;
  rssMB: number;
  tensorsBefore: number;
  tensorsAfter: number;
  /** Rank 0's barrier waits as a share of its epochs, barriers per step, and the share of barriers it slept at. */
  waitShare?: number;
  barriersPerStep?: number;
  sleptShare?: number;
}

function randomBatch(spec: NetSpec): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = tf.randomNormal([spec.batch, spec.inputs]) as tf.Tensor2D;
  const labels = tf.randomUniform([spec.batch], 0, spec.outputs, 'int32') as tf.Tensor1D;
  const y = tf.cast(tf.oneHot(labels, spec.outputs), 'float32') as tf.Tensor2D;
  labels.dispose();
  return { x, y };
}

function timeNet(spec: NetSpec, o: Options, log: (s: string) => void): Row {
  const ops = o.ops === 'fast' ? pickOps(tf.getBackend()) : referenceOps;
  const net = buildNet(spec, ops);
  const { x, y } = randomBatch(spec);
  for (let i = 0; i < 5; i++) net.step(x, y); // warm-up: JIT, kernel code generation, heap growth
  const estimate = (() => {
    const t0 = performance.now();
    net.step(x, y);
    return 1000 / (performance.now() - t0);
  })();
  const steps = o.steps ?? Math.max(10, Math.round(estimate * 2.5)); // ~2.5 s per repeat
  const runs: number[] = [];
  for (let r = 0; r < o.repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) net.step(x, y);
    tf.backend().readSync(x.dataId); // nothing is pending on wasm/cpu, but make the end explicit
    runs.push((steps * 1000) / (performance.now() - t0));
  }
  const row: Row = {
    net: spec.name,
    params: net.paramCount,
    torchParams: null,
    ours: null,
    oursRuns: [],
    minimal: Math.max(...runs),
    minimalRuns: runs,
    torch: null,
    ratio: null,
    ratioAllCores: null,
    target: target(spec),
    met: null,
  };
  log(
    `  ${spec.name}, minimal step: ${runs.map((r) => r.toFixed(2)).join(', ')} steps/s (${steps} steps × ${o.repeats})`,
  );
  net.dispose();
  tf.dispose([x, y]);
  return row;
}

/** The product trainer: ~2.5 s epochs, epoch 1 is warm-up; the depth-50 Bernstein net runs ≥ 200 more steps. */
async function timeProductNet(spec: NetSpec, row: Row, o: Options, log: (s: string) => void): Promise<void> {
  const perEpoch = Math.max(8, Math.round(row.minimal * 2.5));
  const leakRun = spec.depth === 50 && spec.act === 'bern';
  const epochs = Math.max(1 + o.repeats, leakRun ? 1 + Math.ceil(200 / perEpoch) : 0);
  const r = await timeProduct(spec, perEpoch, epochs);
  row.ours = r.stepsPerSec;
  row.oursRuns = r.epochRates;
  if (r.params !== row.params) throw new Error(`product has ${r.params} parameters, the bench net ${row.params}`);
  if (leakRun) {
    row.tensorsBefore = r.tensorsBefore;
    row.tensorsAfter = r.tensorsAfter;
    row.tensorSteps = r.stepsBetween;
    row.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  }
  log(
    `  ${spec.name}, product trainer: ${r.epochRates.map((v) => v.toFixed(2)).join(', ')} steps/s per epoch (${perEpoch} steps each; epoch 1 = warm-up)`,
  );
  if (o.threads > 1) {
    const m = await timeProduct(spec, perEpoch, epochs, o.threads);
    row.multi = {
      threads: m.threads,
      stepsPerSec: m.stepsPerSec,
      epochRates: m.epochRates,
      scaling: m.stepsPerSec / r.stepsPerSec,
      rssOneMB: r.rssMB,
      rssMB: m.rssMB,
      tensorsBefore: m.tensorsBefore,
      tensorsAfter: m.tensorsAfter,
      waitShare: m.waitShare,
      barriersPerStep: m.barriersPerStep,
      sleptShare: m.sleptShare,
    };
    log(
      `  ${spec.name}, product trainer on ${m.threads} threads: ${m.epochRates.map((v) => v.toFixed(2)).join(', ')} steps/s per epoch`,
    );
  }
}

/** The threads column: one run on 1 vs N threads (best later epoch each, like "ours"). */
function multiTable(rows: Row[]): string {
  const head = [
    'net',
    'ours 1 thread',
    'ours N threads',
    'N',
    'scaling',
    'barrier wait (rank 0)',
    'tensors N threads',
    'RSS MB 1 / N (sampled per run)',
  ];
  const body = rows
    .filter((r) => r.multi)
    .map((r) => {
      const m = r.multi as MultiThreadFigures;
      const wait =
        m.waitShare === undefined
          ? '—'
          : `${(100 * m.waitShare).toFixed(0)} % of time, ${fmt(m.barriersPerStep, 0)}/step, ${(100 * (m.sleptShare ?? 0)).toFixed(0)} % slept`;
      return [
        r.net,
        fmt(r.ours),
        fmt(m.stepsPerSec),
        String(m.threads),
        `${m.scaling.toFixed(2)}×`,
        wait,
        `${m.tensorsBefore} → ${m.tensorsAfter}`,
        `${m.rssOneMB} / ${m.rssMB}`,
      ];
    });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** The machine's 1-minute load average against its cores: multi-thread figures mean little on a busy machine. */
function loadNote(): string {
  return `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`;
}

function fmt(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined ? '—' : v.toFixed(digits);
}

function table(rows: Row[]): string {
  const head = [
    'net',
    'params (ours / torch)',
    'ours steps/s',
    'minimal step',
    'torch steps/s',
    'ratio 1 thread',
    'ratio all cores',
    'target',
    'met?',
  ];
  const body = rows.map((r) => [
    r.net,
    `${r.params} / ${r.torchParams ?? '—'}`,
    fmt(r.ours),
    fmt(r.minimal),
    fmt(r.torch),
    fmt(r.ratio),
    fmt(r.ratioAllCores),
    `≥ ${r.target}×`,
    r.met === null ? '—' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'sweep') return sweepBench(argv.includes('--json'));
  if (argv[0] === 'import') return importBench(argv.slice(1));
  if (argv[0] === 'ui') return uiBench();
  if (argv[0] === 'dead')
    return deadReadingBench(
      argv.includes('--json'),
      argv.includes('--only') ? (argv[argv.indexOf('--only') + 1] ?? null) : null,
    );
  if (argv[0] === 'bayes') return bayesBench(argv.includes('--json'));
  if (argv[0] === 'gemm') return gemmBench(argv.slice(1));
  if (argv[0] === 'sweep-torch') {
    const json = argv.includes('--json');
    const haveTorch = !argv.includes('--no-torch') && torchAvailable();
    const row = await sweepVsTorch(haveTorch, json ? () => {} : console.log);
    const info = haveTorch ? torchInfo() : null;
    if (json) console.log(JSON.stringify({ suite: 'sweep-torch', torchInfo: info, sweep: row }, null, 2));
    else if (info)
      console.log(
        `PyTorch ${info.version}: ${info.threads} intra-op thread(s); BLAS ${info.openblasConfig ?? info.blasInfo} (${info.openblasThreads ?? '?'} threads)`,
      );
    return;
  }
  if (argv[0] === 'threads') return threadsBench(argv.slice(1));
  const o = parseArgs(argv);
  const log = (s: string): void => {
    if (!o.json) console.log(s);
  };
  const info = await initBackend('wasm');
  const nets = PEER_NETS.filter((n) => o.only === null || n.name.toLowerCase().includes(o.only.toLowerCase()));
  log(
    `backend ${info.tfBackend} (one thread), ops ${o.ops}; best of ${o.repeats} repeats (the machine is shared: noisy)`,
  );
  log(
    'ratio = ours (product trainer, 1 thread; "all cores": --threads N) / torch (its default threads); "minimal step" = the same ops without the trainer\'s overhead',
  );
  const rows = nets.map((spec) => timeNet(spec, o, log));
  if (o.product) for (const [i, spec] of nets.entries()) await timeProductNet(spec, rows[i], o, log);
  let torchVersion: string | null = null;
  const haveTorch = o.torch && torchAvailable();
  let torch: TorchInfo | null = null;
  if (haveTorch) {
    torch = torchInfo();
    log(
      `PyTorch ${torch.version}: torch.get_num_threads() ${torch.threads} (interop ${torch.interopThreads}); ` +
        `BLAS ${torch.openblasConfig ? `${torch.openblasConfig}, ${torch.openblasThreads} threads` : `BLAS_INFO=${torch.blasInfo}`} ` +
        `(${torch.blasLibraries.join(', ') || 'no BLAS library loaded'})`,
    );
  }
  if (haveTorch) {
    log('PyTorch peer (../shared/bench/peer_torch.py, same settings):');
    nets.forEach((spec, i) => {
      const runs: PeerResult[] = [];
      for (let r = 0; r < Math.min(o.repeats, 2); r++)
        runs.push(runPeer(spec, spec.act === 'bern' ? 40 : 150, o.torchThreads));
      const best = Math.max(...runs.map((p) => p.stepsPerSec));
      torchVersion = runs[0].version;
      const row = rows[i];
      row.torch = best;
      row.torchParams = runs[0].params;
      row.ratio = (row.ours ?? row.minimal) / best;
      row.ratioAllCores = row.multi ? row.multi.stepsPerSec / best : null;
      row.met = Math.max(row.ratio, row.ratioAllCores ?? 0) >= row.target;
      log(`  ${spec.name}: ${runs.map((p) => p.stepsPerSec.toFixed(2)).join(', ')} steps/s`);
    });
  } else if (o.torch) {
    log('PyTorch not available (/usr/bin/python3 -c "import torch" failed): no ratios.');
  }
  const sweep: SweepVsTorch | null = o.sweep ? await sweepVsTorch(haveTorch, log) : null;
  if (o.json) {
    console.log(
      JSON.stringify(
        {
          backend: info.tfBackend,
          ops: o.ops,
          torch: torchVersion,
          torchInfo: torch,
          threads: o.threads,
          load: loadNote(),
          rows,
          sweep,
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(`\n${table(rows)}`);
  if (rows.some((r) => r.multi))
    console.log(`\none run on 1 vs ${o.threads} threads (product trainer; load: ${loadNote()}):\n${multiTable(rows)}`);
  if (sweep) {
    console.log(
      `\nsweep (8 runs, depth 16 × 100, HIGGS-shaped, ${sweep.stepsPerRun} steps each): ours ${fmt(sweep.ours.runsPerMin)} runs/min ` +
        `(pool of ${sweep.workers}) | torch one after another ${fmt(sweep.torch?.runsPerMin)} runs/min | ratio ${fmt(sweep.ratio)} ` +
        `(target ≥ ${sweep.target}×: ${sweep.met === null ? '—' : sweep.met ? 'met' : 'NOT met'})`,
    );
  }
  if (torch) {
    console.log(
      `PyTorch ${torch.version}: ${torch.threads} intra-op thread(s) (torch.get_num_threads()); BLAS: ` +
        `${torch.openblasConfig ? `${torch.openblasConfig} with ${torch.openblasThreads} threads` : `BLAS_INFO=${torch.blasInfo}`}`,
    );
  }
  for (const r of rows) {
    if (r.tensorsBefore !== undefined) {
      console.log(
        `${r.net} (product trainer): tf.memory().numTensors ${r.tensorsBefore} → ${r.tensorsAfter} over ` +
          `${r.tensorSteps} steps; peak RSS ${r.peakRssMB} MB ` +
          '(process-wide, measured right after this run)',
      );
    }
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
