// Polling helpers for the suites that watch other processes (leases, owners, stored epochs).
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls f every 50 ms until it yields a truthy value (errors count as "not yet"); fails after ms. */
export async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Fast leases, so an expiry (or a wrongly dead owner) shows within a test: for child processes' env. */
export const FAST_LEASE_ENV = { DEEPBERN_LEASE_MS: '1500', DEEPBERN_HEARTBEAT_MS: '300' };

/** FAST_LEASE_ENV for services started in this test process too. */
export function useFastLeases(): typeof FAST_LEASE_ENV {
  Object.assign(process.env, FAST_LEASE_ENV);
  return FAST_LEASE_ENV;
}
