// Errors the user can fix print as one line and exit 2; anything else is a bug and exits 1 with the message.
import { SpecError } from '../../shared/spec.js';
import { SweepError } from '../../shared/sweep.js';
import { termText } from './output.js';

export class UserError extends Error {
  override name = 'UserError';
}

const USER_ERRORS = new Set(['UserError', 'SpecError', 'SweepError', 'StoreError', 'DatasetError', 'ModelFileError', 'StateError']);

export function isUserError(e: unknown): e is Error {
  return e instanceof Error && (USER_ERRORS.has(e.name) || e instanceof SpecError || e instanceof SweepError);
}

export function reportAndExit(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`deepbern: ${termText(msg)}\n`);
  if (!isUserError(e) && process.env.DEEPBERN_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(isUserError(e) ? 2 : 1);
}

/** Parse a number-valued flag, naming the flag when it is not a number. */
export function numberFlag(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UserError(`${flag} must be a number (got "${v}")`);
    return n;
  };
}
