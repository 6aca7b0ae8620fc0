// Errors the user can fix print as one line and exit 2; anything else is a bug and exits 1 with the message.
import { SpecError } from '../../shared/spec.js';
import { SweepError } from '../../shared/sweep.js';
import { termText } from './output.js';

import type { RunStatus, SweepStatus } from '../../shared/metrics.js';

/** What a `deepbern` command's exit status says (docs/cli.md "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** A bug: an unexpected error (the message says what). */
  internal: 1,
  /** Bad input the user can fix (one line says what). */
  usage: 2,
  /** A run failed or diverged (the others are stored as usual). */
  runFailed: 3,
  /** Another live process owns the sweep or run (the line names it); `--wait` waits instead. */
  owned: 4,
  /** Stopped before the end but resumable (`deepbern sweep resume`): lost remote workers or Redis, a lost lease. */
  interrupted: 5,
  /** Cancelled: Ctrl-C, `deepbern sweep cancel`, or the app. */
  cancelled: 130,
} as const;

/** The exit status for the runs a command drove (worst first: failed > interrupted > cancelled > ok). */
export function exitCodeFor(statuses: readonly (RunStatus | SweepStatus)[]): number {
  if (statuses.some((s) => s === 'failed' || s === 'diverged')) return EXIT.runFailed;
  if (statuses.some((s) => s === 'interrupted' || s === 'running' || s === 'queued')) return EXIT.interrupted;
  if (statuses.some((s) => s === 'cancelled')) return EXIT.cancelled;
  return EXIT.ok;
}

export class UserError extends Error {
  override name = 'UserError';
}

const USER_ERRORS = new Set([
  'UserError',
  'SpecError',
  'SweepError',
  'StoreError',
  'DatasetError',
  'ModelFileError',
  'StateError',
]);

export function isUserError(e: unknown): e is Error {
  return e instanceof Error && (USER_ERRORS.has(e.name) || e instanceof SpecError || e instanceof SweepError);
}

export function reportAndExit(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`deepbern: ${termText(msg)}\n`);
  if (!isUserError(e) && process.env.DEEPBERN_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  const owned = e instanceof Error && (e as { code?: unknown }).code === 'owned';
  process.exit(owned ? EXIT.owned : isUserError(e) ? EXIT.usage : EXIT.internal);
}

/** Parse a number-valued flag, naming the flag when it is not a number. */
/** `--threads`: auto or a whole number from 1 to max. */
export function threadsFlag(max: number): (v: string) => number | 'auto' {
  return (v: string) => {
    if (v.trim() === 'auto') return 'auto';
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < 1 || n > max)
      throw new UserError(`--threads must be auto or a whole number from 1 to ${max} (got "${v}")`);
    return n;
  };
}

export function numberFlag(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UserError(`${flag} must be a number (got "${v}")`);
    return n;
  };
}
