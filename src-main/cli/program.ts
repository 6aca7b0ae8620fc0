// The `deepbern` command tree (no side effects: main.ts parses argv with it; tests walk it).
import { Command } from 'commander';
import { registerTrain } from './train.js';
import { registerRuns } from './runs.js';
import { registerDatasets } from './datasets.js';
import { registerSweep } from './sweep.js';
import { registerServe } from './serve.js';
import { registerPaper } from './paper.js';
import { registerRemote } from './worker.js';
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
