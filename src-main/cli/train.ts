// `deepbern train`: one standalone run, through the workbench service like every other front end (the service
// queues it on its scheduler, which stores it like any sweep run: same recorder, same pool task).
import type { Command } from 'commander';
import type { WorkbenchEvent } from '../../shared/api.js';
import { activationLabel } from '../../shared/spec.js';
import type { BackendPref } from '../../workers/engine/backend.js';
import { defaultDbPath } from '../store/paths.js';
import { createProgress } from './progress.js';
import { printJson } from './output.js';
import { addSpecOptions, specFromFlags, type SpecFlags } from './spec-flags.js';
import { exitCodeFor } from './errors.js';

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
      const { WorkbenchService } = await import('../service/workbench-service.js'); // tfjs loads only for training
      const service = await WorkbenchService.start({ dbPath: flags.db ?? defaultDbPath(), transport: 'cli', workers: 1, backend: flags.backend, remoteFromSettings: false });
      let runId = '';
      const onSigint = () => void service['runs.cancel'](runId).catch(() => undefined);
      try {
        const name = flags.name ?? activationLabel(spec);
        const progress = createProgress({ json: flags.json === true, label: '' });
        const early: WorkbenchEvent[] = []; // events that arrive before trainRun returns the id
        const onEvent = (e: WorkbenchEvent) => {
          if (!runId) return void early.push(e);
          if (!('runId' in e) || e.runId !== runId) return;
          if (e.type === 'run-start' && !flags.json) process.stderr.write(`backend ${e.backend}  params ${e.paramCount}  data ${e.dataSource}\n`);
          else if (e.type === 'run-progress') progress.batch(e);
          else if (e.type === 'run-epoch') progress.epoch({ epoch: e.epoch, metrics: e.metrics, layers: [] }, spec.epochs);
        };
        service.onEvent(onEvent);
        runId = await service.trainRun(spec, name);
        progress.setLabel(runId);
        if (!flags.json) process.stderr.write(`run ${runId}  ${name}  ${spec.dataset} depth ${spec.depth} width ${spec.width}\n`);
        early.splice(0).forEach(onEvent);
        process.once('SIGINT', onSigint);
        await service.waitForRun(runId);
        progress.stop();
        const run = await service['runs.get'](runId);
        if (flags.json) printJson({ event: 'done', run });
        else {
          process.stderr.write(`${run.status}: run ${runId} (${run.epochsDone} epochs)${run.error && run.status !== 'failed' ? ` — ${run.error}` : ''}\n`);
          if (run.status === 'failed' && run.error) process.stderr.write(`deepbern: ${run.error}\n`);
          process.stdout.write(`${runId}\n`);
        }
        process.exitCode = exitCodeFor([run.status]);
      } finally {
        process.off('SIGINT', onSigint);
        await service.close();
      }
    });
}
