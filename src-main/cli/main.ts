// The `deepbern` command line. Each command is a thin adapter over the store, the engine and the scheduler.
import { buildProgram } from './program.js';
import { reportAndExit } from './errors.js';

// `deepbern runs | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

buildProgram().parseAsync(process.argv).catch(reportAndExit);
