// `deepbern train`: one run, in this process, stored like any sweep run (same job code as the worker pool).
import type { Command } from 'commander';
import { activationLabel } from '../../shared/spec.js';
import type { BackendPref } from '../../workers/engine/backend.js';
import { openStore } from './store.js';
import { assertDatasetsAvailable } from '../service/datasets.js';
import { createProgress } from './progress.js';
import { printJson, termText } from './output.js';
import { addSpecOptions, specFromFlags, type SpecFlags } from './spec-flags.js';

interface TrainFlags extends SpecFlags {
  db?: string;
  json?: boolean;
  name?: string;
  backend?: BackendPref;
}

export function registerTrain(program: Command): void {
  addSpecOptions(program.command('train').description('train one network and store the run'))
    .option('--name <name>', 'run name (default: the activation label)')
    .option('--backend <name>', 'auto | tfjs-node-gpu | tfjs-node | wasm | cpu (default auto, or $DEEPBERN_BACKEND)')
    .option('--db <path>', 'SQLite store (default: per-user data dir)')
    .option('--json', 'machine-readable output (JSON lines)')
    .action(async (flags: TrainFlags) => {
      const spec = specFromFlags(flags); // validate before touching the DB
      const store = await openStore(flags.db);
      try {
        await assertDatasetsAvailable(store, [spec.dataset]);
      } catch (e) {
        await store.close();
        throw e;
      }
      const datasetFiles = await store.datasetFiles();
      const name = flags.name ?? activationLabel(spec);
      const runId = await store.createRun({ spec, name, epochsTotal: spec.epochs });
      const label = flags.json ? runId : `${runId}`;
      if (!flags.json) process.stderr.write(`run ${runId}  ${termText(name)}  ${spec.dataset} depth ${spec.depth} width ${spec.width} init ${spec.init}${spec.batchNorm ? ` bn${spec.bnAffine ? ' affine' : ''}` : ''}\n`);
      const progress = createProgress({ json: flags.json === true, label });
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        await store.setRunStatus(runId, 'running');
        const { executeRunJob } = await import('../../workers/run-job.js'); // tfjs loads only for training
        const result = await executeRunJob(
          { runId, spec, datasetFiles, backend: flags.backend },
          {
            signal: abort.signal,
            onStart: async (info) => {
              await store.markRunning(runId, info.backend, info.paramCount);
              if (!flags.json) process.stderr.write(`backend ${info.backend}  params ${info.paramCount}  data ${info.dataSource}\n`);
            },
            onBatch: (p) => progress.batch({ ...p, epochs: spec.epochs }),
            onEpoch: async (report, checkpoint) => {
              await store.appendEpoch(runId, report, checkpoint);
              progress.epoch(report, spec.epochs);
            },
          },
        );
        progress.stop();
        if (result.status === 'finished' || result.status === 'pruned') await store.saveModel(runId, result.finalState);
        await store.finishRun(runId, result.status, result.error);
        const run = await store.getRun(runId);
        if (flags.json) printJson({ event: 'done', run });
        else process.stderr.write(`${result.status}: run ${runId} (${result.epochsDone} epochs)${result.error ? ` — ${result.error}` : ''}\n`);
        process.stdout.write(flags.json ? '' : `${runId}\n`);
      } catch (e) {
        progress.stop();
        await store.finishRun(runId, 'failed', e instanceof Error ? e.message : String(e));
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
        await store.close();
      }
    });
}
