// This process as an owner of runs and sweeps (store/leases.ts): registers itself, renews its lease every few
// seconds, reaps what dead owners left `running` (→ `interrupted`), and relays cancel requests that other
// processes wrote to the DB (`deepbern sweep cancel`, the app's Cancel on a run this process trains).
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { leaseTimings, type LeaseTimings, type RunStore } from '../store/run-store.js';
import { retryBusy } from '../store/busy.js';

export interface OwnershipOptions {
  /** What this process is, as others will read it: `deepbern sweep run`, `deepbern serve`, `the desktop app`. */
  command: string;
  timings?: Partial<LeaseTimings>;
  /** One-line notices (a lock that makes a write wait, a lost lease). */
  log?(line: string): void;
}

/**
 * Events: `cancel-run` (runId) and `cancel-sweep` (sweepId) when another process asked for it; `reaped`
 * ({runs, sweeps}) when dead owners' work became interrupted.
 */
export class Ownership extends EventEmitter {
  readonly id = randomUUID();
  readonly timings: LeaseTimings;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private stopped = false;
  private waitingSaid = false;

  private constructor(
    private readonly store: RunStore,
    private readonly opts: OwnershipOptions,
  ) {
    super();
    this.timings = leaseTimings(process.env, opts.timings);
  }

  static async start(store: RunStore, opts: OwnershipOptions): Promise<Ownership> {
    const o = new Ownership(store, opts);
    await o.write('register this process', () => store.registerOwner({ id: o.id, command: opts.command }, o.timings));
    await o.write('reap dead owners', () => store.reapExpired());
    o.timer = setInterval(() => void o.beat(), o.timings.heartbeatMs);
    o.timer.unref();
    return o;
  }

  /**
   * A write that waits out transient locks (another program holding the DB) with back-off, saying so once per
   * wait: a run is never failed or cancelled for a lock.
   */
  write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retryBusy(what, fn, {
      onWait: (w) => {
        if (this.waitingSaid) return;
        this.waitingSaid = true;
        this.opts.log?.(`the database is locked by another program; waiting to ${w} (nothing is lost)`);
      },
    }).finally(() => {
      this.waitingSaid = false;
    });
  }

  private beat(): Promise<void> {
    this.beating ??= (async () => {
      try {
        // Short waits: the next beat tries again; the TTL is several beats long.
        if (
          !(await retryBusy('renew the lease', () => this.store.renewOwner(this.id, this.timings), {
            maxWaitMs: this.timings.heartbeatMs,
          }))
        ) {
          await this.store.registerOwner({ id: this.id, command: this.opts.command }, this.timings);
        }
        const reaped = await retryBusy('reap', () => this.store.reapExpired(), { maxWaitMs: this.timings.heartbeatMs });
        if (reaped.runs.length || reaped.sweeps.length) this.emit('reaped', reaped);
        const asked = await this.store.cancelRequests(this.id);
        for (const id of asked.runs) this.emit('cancel-run', id);
        for (const id of asked.sweeps) this.emit('cancel-sweep', id);
      } catch (e) {
        if (!this.stopped && !this.store.db.isClosed)
          this.opts.log?.(`lease renewal failed (retrying): ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.beating = null;
      }
    })();
    return this.beating;
  }

  /** Ends the lease: this process owns nothing any more (call after its runs and sweeps were released). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    if (!this.store.db.isClosed)
      await this.write('end the lease', () => this.store.removeOwner(this.id)).catch(() => undefined);
  }
}
