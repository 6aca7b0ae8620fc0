// Quitting the app: stop training cleanly (finished epochs are stored; sweeps resume on the next start), but
// never hang invisibly. The wait is bounded; past it the process exits anyway, which stops the pool's threads
// with it: the store is SQLite (a killed writer loses nothing committed) and interrupted sweeps stay `running`,
// so the next start re-queues them, exactly as after a crash. The exit code says which of these happened.

/** How long Quit waits for the running batches to finish and the store to close (the issue asks 10–20 s). */
export const QUIT_TIMEOUT_MS = 15_000;

export type ShutdownResult = { ok: true } | { ok: false; reason: string };

/** Runs `close` but gives up after `timeoutMs`; never throws. */
export async function closeWithin(
  close: () => Promise<void>,
  timeoutMs: number = QUIT_TIMEOUT_MS,
): Promise<ShutdownResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ShutdownResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ok: false,
          reason: `the runs did not stop within ${Math.round(timeoutMs / 1000)} s; quitting anyway (interrupted sweeps resume on the next start)`,
        }),
      timeoutMs,
    );
  });
  const closed = close().then(
    (): ShutdownResult => ({ ok: true }),
    (e: unknown): ShutdownResult => ({
      ok: false,
      reason: `closing the store failed: ${e instanceof Error ? e.message : String(e)}`,
    }),
  );
  try {
    return await Promise.race([closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The process exit code for a shutdown: 0 only when everything closed. */
export function exitCodeFor(r: ShutdownResult): number {
  return r.ok ? 0 : 1;
}
