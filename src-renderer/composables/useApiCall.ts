// The one way a screen calls the API and reports a failure: `attempt` runs the calls (and what follows them),
// catches, and shows the server's message — as a toast, in a field of the screen, or not at all — so no view
// writes its own try/catch/notify block. `latest()` adds latest-wins for loads a newer one can overtake.
import type { Ref } from 'vue';
import { getApi, type WorkbenchClient } from '../api/client.js';
import { errText, notify } from '../state/store.js';

/**
 * Where a failure's message goes:
 * - a string: a toast `<string>: <message>` (the string names what failed, e.g. "save failed");
 * - a Ref<string>: the message is written there (the screen shows it in place);
 * - a function: called with the message (and the error), for anything else;
 * - null: ignored — for background polling whose failure another part of the screen already shows.
 */
export type OnError = string | Ref<string> | ((message: string, error: unknown) => void) | null;

export interface AttemptOptions {
  /** Set true while the attempt runs and false when it ends (a spinner, a disabled button). */
  busy?: Ref<boolean>;
}

function report(onError: OnError, e: unknown): void {
  if (onError === null) return;
  const message = errText(e);
  if (typeof onError === 'string') notify(`${onError}: ${message}`, 'error');
  else if (typeof onError === 'function') onError(message, e);
  else onError.value = message;
}

/** Run `fn`; resolves with its result, or with undefined after reporting the failure through `onError`. */
export async function attempt<T>(onError: OnError, fn: () => Promise<T>, opts: AttemptOptions = {}): Promise<T | undefined> {
  if (opts.busy) opts.busy.value = true;
  try {
    return await fn();
  } catch (e) {
    report(onError, e);
    return undefined;
  } finally {
    if (opts.busy) opts.busy.value = false;
  }
}

/**
 * A latest-wins runner for a load that a newer one can overtake (a selection or a width changed meanwhile):
 * an overtaken call resolves undefined, reports no error and leaves `busy` to the newer call.
 */
export function latest() {
  let seq = 0;
  return async function run<T>(onError: OnError, fn: () => Promise<T>, opts: AttemptOptions = {}): Promise<T | undefined> {
    const my = ++seq;
    if (opts.busy) opts.busy.value = true;
    try {
      const r = await fn();
      return my === seq ? r : undefined;
    } catch (e) {
      if (my === seq) report(onError, e);
      return undefined;
    } finally {
      if (opts.busy && my === seq) opts.busy.value = false;
    }
  };
}

/** For a component's setup: the API client, `attempt` and `latest`. */
export function useApiCall(): { api: WorkbenchClient; attempt: typeof attempt; latest: typeof latest } {
  return { api: getApi(), attempt, latest };
}
