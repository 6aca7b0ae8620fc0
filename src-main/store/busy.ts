// A transient lock (another program holds the write lock longer than the busy timeout: a backup, a DB browser,
// a second workbench mid-transaction) is not a failure: wait and try again, with back-off, instead of failing
// or cancelling a run.
import { StoreError } from './errors.js';

export function isBusy(e: unknown): boolean {
  return e instanceof StoreError && (e.sqlite === 'SQLITE_BUSY' || e.sqlite === 'SQLITE_LOCKED');
}

export interface BusyRetryOptions {
  /** Called once per wait that starts (a first busy answer), with what is waiting. */
  onWait?(what: string, e: StoreError): void;
  /** Give up after this long in all (default: never; a run waits as long as the lock is held). */
  maxWaitMs?: number;
  /** Stop waiting when aborted (rethrows the busy error). */
  signal?: AbortSignal;
}

/** Runs `fn`, retrying it while SQLite answers SQLITE_BUSY/LOCKED (fn must be one transaction or statement). */
export async function retryBusy<T>(what: string, fn: () => Promise<T>, opts: BusyRetryOptions = {}): Promise<T> {
  const t0 = Date.now();
  let delay = 50;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isBusy(e) || opts.signal?.aborted || Date.now() - t0 > (opts.maxWaitMs ?? Infinity)) throw e;
      if (attempt === 0) opts.onWait?.(what, e as StoreError);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
