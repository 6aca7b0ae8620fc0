// The `deepbern` command line. Each command is a thin adapter over the store, the engine and the scheduler.
import { Command } from 'commander';
import { registerTrain } from './train.js';
import { registerRuns } from './runs.js';
import { registerDatasets } from './datasets.js';
import { registerSweep } from './sweep.js';
import { registerServe } from './serve.js';
import { registerPaper } from './paper.js';
import { registerRemote } from './worker.js';
import { reportAndExit } from './errors.js';
import { VERSION } from '../version.js';

export function buildProgram(): Command {
  const program = new Command('deepbern')
    .description('DeepBern Workbench: train, sweep and compare Deep Bernstein Networks')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (s, write) => write(s.startsWith('error:') ? `deepbern: ${s.slice(7)}` : s) })
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  registerTrain(program);
  registerRuns(program);
  registerDatasets(program);
  registerSweep(program);
  registerServe(program);
  registerPaper(program);
  registerRemote(program);
  return program;
}

// `deepbern runs | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

buildProgram()
  .parseAsync(process.argv)
  .catch(reportAndExit);
