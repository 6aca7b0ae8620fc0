// `deepbern sweep plan|run|list|show|cancel|resume`.
import { existsSync, readFileSync } from 'node:fs';
import { BUILTIN_DATASETS } from '../../workers/data/registry.js';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { WorkbenchEvent } from '../../shared/api.js';
import { parseSweepText, planSweep, type SweepPlan } from '../../shared/sweep.js';
import { sweepInsights } from '../report/sweep-insights.js';
import { activationLabel } from '../../shared/spec.js';
import { RESUMABLE_RUN_STATUSES, type RunStatus } from '../../shared/metrics.js';
import type { BackendPref } from '../../workers/engine/backend.js';
import { LocalPoolExecutor } from '../scheduler/local-pool.js';
import type { Executor } from '../scheduler/executor.js';
import type { WorkbenchService } from '../service/workbench-service.js';
import { defaultDbPath } from '../store/paths.js';
import { DB_HELP, openStore, openStoreIfExists } from './store.js';
import { describeOwner, OwnedError } from '../store/run-store.js';
import { fmt, printJson, printTable, termText } from './output.js';
import { formatMetric } from '../../shared/format.js';
import { runParams, sweptParams } from './swept.js';
import { EXIT, exitCodeFor, numberFlag, UserError } from './errors.js';
import { etaText, NO_ETA } from './progress.js';

interface Common {
  db?: string;
  json?: boolean;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read sweep file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Remote executors plug in here (BullMQ); the local pool is the default. */
export type ExecutorFactory = (opts: { workers?: number; backend?: string; redis?: string }) => Promise<Executor>;
let executorFactory: ExecutorFactory = async (o) =>
  new LocalPoolExecutor({ workers: o.workers, backend: o.backend as never });
export function setExecutorFactory(f: ExecutorFactory): void {
  executorFactory = f;
}

interface RunFlags extends Common {
  wait?: boolean;
  workers?: number;
  backend?: string;
  redis?: string;
}

/** The service a sweep command drives: the local pool, or remote workers with --redis (never the app's Settings). */
async function startService(f: RunFlags): Promise<WorkbenchService> {
  const { WorkbenchService } = await import('../service/workbench-service.js'); // loads tfjs: only when training
  return WorkbenchService.start({
    dbPath: f.db ?? defaultDbPath(),
    transport: 'cli',
    workers: f.workers,
    backend: f.backend as BackendPref | undefined,
    remoteFromSettings: false,
    // Remote workers pick their own backend unless --backend asks for one.
    ...(f.redis
      ? {
          executor: () => executorFactory({ workers: f.workers, backend: f.backend, redis: f.redis }),
          jobBackend: f.backend as BackendPref | undefined,
        }
      : {}),
  });
}

/** Resume; when a live process owns the sweep: exit 4 naming it, or (--wait) wait until it lets go. */
async function resumeOrWait(service: WorkbenchService, sweepId: string, wait: boolean): Promise<void> {
  let said = false;
  for (;;) {
    try {
      return await service['sweeps.resume'](sweepId);
    } catch (e) {
      if (!(e instanceof OwnedError) || !wait) throw e;
      if (!said) process.stderr.write(`deepbern: ${e.message}; waiting (--wait) until it stops…\n`);
      said = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Runs the sweep (launched from `text`, or resumed) to its end on this process's service; sets the exit code. */
async function drive(
  f: RunFlags,
  what: { text: string; plan: SweepPlan } | { resume: string; fresh?: boolean },
): Promise<void> {
  const service = await startService(f);
  try {
    const views: ReturnType<typeof createSweepView>[] = [];
    service.onEvent((e) => views.forEach((v) => v.event(e)));
    let sweepId: string;
    let queued: number;
    if ('text' in what) {
      const s = await service.launchPlan(what.plan, what.text); // the plan checked before the service started: parsed once
      sweepId = s.id;
      queued = s.total;
      if (!f.json) process.stdout.write(`${sweepId}\n`);
    } else {
      sweepId = what.resume;
      const before = await service['sweeps.get'](sweepId);
      await resumeOrWait(service, sweepId, f.wait === true);
      queued = RESUMABLE_RUN_STATUSES.reduce((n, st) => n + (before.counts[st] ?? 0), 0);
    }
    const view = createSweepView(service, sweepId, f.json === true);
    views.push(view);
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(EXIT.cancelled);
      interrupted = true;
      process.stderr.write('\ncancelling (finished epochs are kept; `deepbern sweep resume` continues)…\n');
      void service['sweeps.cancel'](sweepId).catch(() => undefined);
    };
    process.on('SIGINT', onSigint);
    // Another process may cancel the sweep (`deepbern sweep cancel`, the app): this process's lease heartbeat
    // sees it and stops the runs; the exit code then says cancelled.
    try {
      view.start(queued, service.capacityOf(sweepId), 'resume' in what && !what.fresh);
      await service.waitForSweep(sweepId);
    } finally {
      process.off('SIGINT', onSigint);
      view.stop();
    }
    const sweep = await service['sweeps.get'](sweepId);
    const counts = sweep.counts;
    if (f.json)
      process.stdout.write(JSON.stringify({ event: 'sweep-done', sweepId, status: sweep.status, counts }) + '\n');
    else
      process.stderr.write(
        `sweep ${sweepId} ${sweep.status}: ${Object.entries(counts)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}\n`,
      );
    process.exitCode = interrupted
      ? EXIT.cancelled
      : exitCodeFor([...(Object.keys(counts) as RunStatus[]), sweep.status]);
  } finally {
    await service.close();
  }
}

function createSweepView(service: WorkbenchService, sweepId: string, json: boolean) {
  const tty = process.stderr.isTTY === true && !json;
  const multi = tty
    ? new cliProgress.MultiBar(
        {
          format: '{label} |{bar}| {info}',
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_grey,
      )
    : null;
  const bars = new Map<string, cliProgress.SingleBar>();
  let overall: cliProgress.SingleBar | null = null;
  let done = 0;
  let startedAt = Date.now();
  const names = new Map<string, string>();
  const nameOf = async (runId: string) => {
    if (!names.has(runId)) names.set(runId, termText((await service['runs.get'](runId)).name));
    return names.get(runId) as string;
  };
  return {
    start(total: number, workers: number, resume: boolean) {
      if (json)
        process.stdout.write(JSON.stringify({ event: 'sweep-start', sweepId, runs: total, workers, resume }) + '\n');
      else
        process.stderr.write(
          `sweep ${sweepId}: ${total} runs on ${workers} worker${workers > 1 ? 's' : ''}${resume ? ' (resumed)' : ''}\n`,
        );
      if (multi)
        overall = multi.create(
          total,
          0,
          { label: 'overall'.padEnd(28), etaText: NO_ETA },
          { format: '{label} |{bar}| {value}/{total} runs  ETA {etaText}' },
        );
      startedAt = Date.now();
    },
    event(e: WorkbenchEvent) {
      if (json) {
        process.stdout.write(JSON.stringify(e) + '\n');
        return;
      }
      if (e.type === 'run-progress' && multi) {
        void nameOf(e.runId).then((name) => {
          let bar = bars.get(e.runId);
          if (!bar) {
            bar = multi.create(
              e.epochs,
              0,
              { label: name.slice(0, 28).padEnd(28), info: '' },
              { format: '{label} |{bar}| {info}' },
            );
            bars.set(e.runId, bar);
          }
          bar.update(e.epoch - 1 + e.batch / e.batches, { info: `epoch ${e.epoch}/${e.epochs} loss ${fmt(e.loss)}` });
        });
      } else if (e.type === 'run-epoch' && !multi) {
        void nameOf(e.runId).then((name) =>
          process.stderr.write(
            `${e.runId} ${name}  epoch ${e.epoch}  train_loss ${fmt(e.metrics.train_loss)}  test_loss ${fmt(e.metrics.test_loss)}  test_acc ${formatMetric('test_acc', e.metrics.test_acc)}\n`,
          ),
        );
      } else if (e.type === 'run-status' && e.status !== 'running' && e.status !== 'queued') {
        done++;
        const bar = bars.get(e.runId);
        if (bar && multi) {
          multi.remove(bar);
          bars.delete(e.runId);
        }
        if (overall) overall.update(done, { etaText: etaText(done, overall.getTotal(), Date.now() - startedAt) });
        const line = `${e.runId} ${e.status}${e.error ? `: ${termText(e.error)}` : ''}`;
        if (multi) multi.log(line + '\n');
        else process.stderr.write(line + '\n');
      }
    },
    stop() {
      multi?.update(); // flush lines logged since the last redraw
      multi?.stop();
    },
  };
}

export function registerSweep(program: Command): void {
  const sweep = program.command('sweep').description('plan, run and inspect sweeps (docs/sweep-file.md)');

  sweep
    .command('plan <file>')
    .description(
      'the runs a sweep file expands to; nothing runs (with --db: also checks its datasets are in that store)',
    )
    .option('--db <path>', `${DB_HELP}; read only, to check the datasets`)
    .option('--json', 'machine-readable output')
    .action(async (file: string, f: Common) => {
      const plan = planSweep(parseSweepText(readText(file)));
      if (f.db !== undefined) {
        // An explicit store is checked read-only (nothing is created or changed); without one, no DB is touched.
        const wanted = plan.runs.map((r) => r.spec.dataset).filter((id) => !id.startsWith('fn:')); // target functions are generated
        if (!existsSync(f.db)) {
          const unknown = wanted.find((id) => !BUILTIN_DATASETS.some((d) => d.id === id));
          if (unknown !== undefined)
            throw new UserError(
              `unknown dataset "${unknown}": ${f.db} does not exist yet, so only the built-in datasets are available (${BUILTIN_DATASETS.map((d) => d.id).join(', ')})`,
            );
        } else {
          const store = await openStore(f.db, { readOnly: true });
          try {
            await store.assertDatasetsAvailable(wanted);
          } finally {
            await store.close();
          }
        }
      }
      if (f.json)
        return printJson({
          name: plan.file.name,
          total: plan.total,
          sequential: plan.sequential === true,
          runs: plan.runs.map((r) => ({ index: r.index, params: r.params, spec: r.spec })),
        });
      if (plan.sequential) {
        process.stdout.write(
          `method bayes: up to ${plan.total} runs, each proposed from the finished ones (TPE); the first run:\n`,
        );
      }
      const keys = [...new Set(plan.runs.flatMap((r) => Object.keys(r.params)))];
      printTable(
        ['#', 'label', ...keys],
        plan.runs.map((r) => [r.index + 1, activationLabel(r.spec), ...keys.map((k) => r.params[k])]),
      );
      if (!plan.sequential)
        process.stdout.write(
          `${plan.runs.length} runs${plan.total > plan.runs.length ? ` (of ${plan.total}; run_cap)` : ''}\n`,
        );
    });

  sweep
    .command('run <file>')
    .description('create a sweep from a file and run it on the worker pool')
    .option('--workers <n>', 'parallel runs (default: CPU cores)', numberFlag('--workers'))
    .option('--backend <name>', 'auto | tfjs-node-gpu | tfjs-node | wasm | cpu')
    .option('--redis <url>', 'dispatch runs to remote workers through Redis (docs/distributed.md)')
    .option('--db <path>', DB_HELP)
    .option('--json', 'stream events as JSON lines')
    .action(async (file: string, f: RunFlags) => {
      if (f.workers !== undefined && (!Number.isInteger(f.workers) || f.workers < 1 || f.workers > 256))
        throw new UserError('--workers must be an integer between 1 and 256');
      const text = readText(file);
      const plan = planSweep(parseSweepText(text)); // validate before touching the DB (or loading tfjs)
      if (!f.redis) return drive(f, { text, plan });
      // Remote: the sweep is stored before Redis is asked anything, so an unreachable Redis leaves it queued
      // and resumable (`sweep resume --redis` once Redis is up) rather than lost.
      const { WorkbenchService } = await import('../service/workbench-service.js');
      const sweepId = await WorkbenchService.storeSweep(f.db ?? defaultDbPath(), plan, text);
      if (!f.json) process.stdout.write(`${sweepId}\n`);
      await drive(f, { resume: sweepId, fresh: true });
    });

  sweep
    .command('resume <sweepId>')
    .description("continue a sweep's unfinished runs from their last checkpoints")
    .option('--workers <n>', 'parallel runs (default: CPU cores)', numberFlag('--workers'))
    .option('--backend <name>', 'auto | tfjs-node-gpu | tfjs-node | wasm | cpu')
    .option('--redis <url>', 'dispatch runs to remote workers through Redis')
    .option('--wait', 'if another live process runs this sweep, wait until it stops instead of exiting 4')
    .option('--db <path>', DB_HELP)
    .option('--json', 'stream events as JSON lines')
    .action(async (sweepId: string, f: RunFlags) => {
      const store = await openStore(f.db);
      try {
        const s = await store.getSweep(sweepId);
        const unfinished = (await store.listRuns({ sweepId, status: RESUMABLE_RUN_STATUSES, limit: 1 })).total;
        if (unfinished === 0)
          throw new UserError(`sweep ${sweepId} (${s.name}) is ${s.status} with no unfinished runs: nothing to resume`);
      } finally {
        await store.close();
      }
      await drive(f, { resume: sweepId });
    });

  sweep
    .command('list')
    .description('stored sweeps')
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output')
    .action(async (f: Common) => {
      const store = await openStoreIfExists(f.db);
      if (!store) return f.json ? printJson([]) : printTable(['id', 'name', 'status', 'runs', 'states', 'created'], []);
      try {
        const sweeps = await store.listSweeps();
        const rows = [];
        for (const s of sweeps) {
          const runs = (await store.listRuns({ sweepId: s.id, limit: 100_000 })).rows;
          const counts: Record<string, number> = {};
          for (const r of runs) counts[r.status] = (counts[r.status] ?? 0) + 1;
          rows.push({ ...s, runs: runs.length, counts });
        }
        if (f.json) return printJson(rows.map(({ config: _c, ...r }) => r));
        printTable(
          ['id', 'name', 'status', 'runs', 'states', 'created'],
          rows.map((s) => [
            s.id,
            s.name,
            s.status,
            s.runs,
            Object.entries(s.counts)
              .map(([k, v]) => `${v} ${k}`)
              .join(', '),
            s.createdAt,
          ]),
        );
      } finally {
        await store.close();
      }
    });

  sweep
    .command('show <sweepId>')
    .description("a sweep's runs ranked by its metric, with the parameters they differ in")
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output')
    .option('--importance', 'also: which swept parameters explain the metric (random-forest permutation importance)')
    .action(async (sweepId: string, f: Common & { importance?: boolean }) => {
      const store = await openStore(f.db, { readOnly: true });
      try {
        const s = await store.getSweep(sweepId);
        const { name: metric, goal } = s.config.metric;
        const runs = (await store.listRuns({ sweepId, limit: 100_000 })).rows;
        const specs = new Map((await store.getRuns(runs.map((r) => r.id))).runs.map((r) => [r.id, r.spec]));
        const swept = sweptParams([...specs.values()]);
        const ranked = [];
        for (const r of runs)
          ranked.push({
            run: r,
            value: await store.finalMetric(r.id, metric),
            params: runParams(specs.get(r.id)!, swept),
          });
        ranked.sort((a, b) =>
          a.value === null ? 1 : b.value === null ? -1 : goal === 'minimize' ? a.value - b.value : b.value - a.value,
        );
        const importance = f.importance ? (await sweepInsights(store, sweepId)).importance : undefined;
        if (f.json)
          return printJson({
            sweep: { ...s, config: undefined },
            metric: { name: metric, goal },
            swept,
            runs: ranked.map((x, i) => ({ rank: i + 1, value: x.value, params: x.params, ...x.run })),
            importance,
          });
        process.stdout.write(`sweep ${s.id}  ${termText(s.name)}  [${s.status}]  ranked by ${metric} (${goal})\n`);
        process.stdout.write(
          swept.length
            ? `swept: ${swept.map((p) => `${p.param} ${p.values.map(fmt).join(' | ')}`).join('  ·  ')}\n`
            : 'swept: nothing (every run has the same spec but its name)\n',
        );
        const keys = swept.map((p) => p.param);
        printTable(
          ['rank', 'run', 'name', 'status', 'epochs', ...keys, metric],
          ranked.map((x, i) => [
            i + 1,
            x.run.id,
            x.run.name,
            x.run.status,
            `${x.run.epochsDone}/${x.run.epochsTotal}`,
            ...keys.map((k) => x.params[k]),
            x.value,
          ]),
        );
        if (importance) {
          process.stdout.write(
            `\nparameter importance for ${metric} (${importance.method}; ${importance.runs} runs)\n`,
          );
          if (importance.reason) process.stdout.write(`  not computed: ${importance.reason}\n`);
          else
            printTable(
              ['parameter', 'importance'],
              importance.params.map((p) => [p.param, p.importance.toFixed(3)]),
            );
        }
      } finally {
        await store.close();
      }
    });

  sweep
    .command('cancel <sweepId>')
    .description('cancel a sweep: queued runs are cancelled, running ones stop after their current batch')
    .option('--db <path>', DB_HELP)
    .action(async (sweepId: string, f: Common) => {
      const store = await openStore(f.db);
      try {
        const s = await store.getSweep(sweepId);
        if (s.status === 'finished') throw new UserError(`sweep ${sweepId} is already finished`);
        await store.setSweepStatus(sweepId, 'cancelled');
        for (const r of (await store.listRuns({ sweepId, status: ['queued', 'interrupted'], limit: 100_000 })).rows)
          await store.finishRun(r.id, 'cancelled');
        const owner = await store.liveOwnerOf('sweeps', sweepId);
        process.stderr.write(
          `sweep ${sweepId} cancelled${owner ? ` (${describeOwner(owner)} stops its runs within a few seconds)` : ''}\n`,
        );
      } finally {
        await store.close();
      }
    });
}
