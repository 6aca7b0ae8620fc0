// `deepbern train`: one standalone run, through the workbench service like every other front end (the service
// queues it on its scheduler, which stores it like any sweep run: same recorder, same pool task).
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { WorkbenchEvent } from '../../shared/api.js';
import { activationLabel } from '../../shared/spec.js';
import type { BackendPref } from '../../workers/engine/backend.js';
import { defaultDbPath } from '../store/paths.js';
import { DB_HELP } from './store.js';
import { createProgress } from './progress.js';
import { printJson, termText } from './output.js';
import { addSpecOptions, specFromFlags, type SpecFlags } from './spec-flags.js';
import { exitCodeFor, threadsFlag } from './errors.js';
import { MAX_RUN_THREADS, type RunThreads } from '../../shared/sweep.js';
import type { WorkbenchService } from '../service/workbench-service.js';

interface TrainFlags extends SpecFlags {
  db?: string;
  json?: boolean;
  name?: string;
  backend?: BackendPref;
  threads?: RunThreads;
}

const THREADS_HELP =
  'threads to train on: a number, or auto (every core the pool leaves free); default 1 (docs/threads.md)';

/** Follows one run on the service to its end: progress lines, the final line, the exit code. */
async function follow(
  service: WorkbenchService,
  runId: string,
  epochs: number,
  json: boolean,
  start: () => Promise<void>,
): Promise<void> {
  const progress = createProgress({ json, label: runId });
  service.onEvent((e: WorkbenchEvent) => {
    if (!('runId' in e) || e.runId !== runId) return;
    if (e.type === 'run-start' && !json) {
      const threads = e.threads !== undefined ? `  threads ${e.threads}` : '';
      process.stderr.write(`backend ${e.backend}${threads}  params ${e.paramCount}  data ${e.dataSource}\n`);
      if (e.threadsNote) process.stderr.write(`note: ${e.threadsNote}\n`);
    } else if (e.type === 'run-progress') progress.batch(e);
    else if (e.type === 'run-epoch') progress.epoch({ epoch: e.epoch, metrics: e.metrics, layers: [] }, epochs);
  });
  const onSigint = () => void service['runs.cancel'](runId).catch(() => undefined);
  process.once('SIGINT', onSigint);
  try {
    await start();
    await service.waitForRun(runId);
  } finally {
    process.off('SIGINT', onSigint);
    progress.stop();
  }
  const run = await service['runs.get'](runId);
  if (json) printJson({ event: 'done', run });
  else {
    process.stderr.write(
      `${run.status}: run ${runId} (${run.epochsDone} epochs)${run.error && run.status !== 'failed' ? ` — ${run.error}` : ''}\n`,
    );
    if (run.status === 'failed' && run.error) process.stderr.write(`deepbern: ${run.error}\n`);
    process.stdout.write(`${runId}\n`);
  }
  process.exitCode = exitCodeFor([run.status]);
}

export function registerTrain(program: Command): void {
  program
    .command('resume <runId>')
    .description('continue an interrupted or cancelled standalone run from its last checkpoint (sweeps: sweep resume)')
    .option('--backend <name>', 'auto | tfjs-node-gpu | tfjs-node | wasm | cpu')
    .option('--threads <n>', THREADS_HELP, threadsFlag(MAX_RUN_THREADS))
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output (JSON lines)')
    .action(
      async (runId: string, flags: { db?: string; json?: boolean; backend?: BackendPref; threads?: RunThreads }) => {
        const { WorkbenchService } = await import('../service/workbench-service.js');
        // One run: the pool's cores are its threads (a pool thread plus its replica threads).
        const service = await WorkbenchService.start({
          dbPath: flags.db ?? defaultDbPath(),
          transport: 'cli',
          command: 'deepbern resume',
          workers: availableParallelism(),
          backend: flags.backend,
          remoteFromSettings: false,
        });
        try {
          const run = await service['runs.get'](runId);
          if (!flags.json)
            process.stderr.write(
              `run ${runId}  ${run.name}  resuming after epoch ${run.epochsDone}/${run.epochsTotal}\n`,
            );
          await follow(service, runId, run.epochsTotal, flags.json === true, () =>
            service.resumeRun(runId, { threads: flags.threads }),
          );
        } finally {
          await service.close();
        }
      },
    );

  addSpecOptions(program.command('train').description('train one network and store the run'))
    .option('--name <name>', 'run name (default: the activation label)')
    .option('--backend <name>', 'auto | tfjs-node-gpu | tfjs-node | wasm | cpu (default auto, or $DEEPBERN_BACKEND)')
    .option('--threads <n>', THREADS_HELP, threadsFlag(MAX_RUN_THREADS))
    .option('--db <path>', DB_HELP)
    .option('--json', 'machine-readable output (JSON lines)')
    .action(async (flags: TrainFlags) => {
      const spec = specFromFlags(flags); // validate before touching the DB
      const { WorkbenchService } = await import('../service/workbench-service.js'); // tfjs loads only for training
      const service = await WorkbenchService.start({
        dbPath: flags.db ?? defaultDbPath(),
        transport: 'cli',
        command: 'deepbern train',
        workers: availableParallelism(),
        backend: flags.backend,
        remoteFromSettings: false,
      });
      try {
        const name = flags.name ?? activationLabel(spec);
        const runId = await service.trainRun(spec, name, { start: false });
        if (!flags.json)
          process.stderr.write(
            `run ${runId}  ${termText(name)}  ${spec.dataset} depth ${spec.depth} width ${spec.width} init ${spec.init}${spec.batchNorm ? ` bn${spec.bnAffine ? ' affine' : ''}` : ''}\n`,
          );
        await follow(service, runId, spec.epochs, flags.json === true, () =>
          service.startStoredRun(runId, { threads: flags.threads }),
        );
      } finally {
        await service.close();
      }
    });
}
