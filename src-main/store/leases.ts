// Leases: who is driving a run or a sweep right now. Every process that trains (the app, `serve`, a CLI
// `sweep run`/`train`) registers itself as an owner row — process id, host, command, heartbeat — and renews
// it every few seconds. A running run or sweep points at its owner. An owner whose lease expired (or, on this
// host, whose process is gone) is dead: its running runs and sweeps become `interrupted` (resumable, deletable,
// cancellable), and anyone may claim them. A live owner's sweep is never taken over (docs/db-schema.md).
import { hostname } from 'node:os';
import type { Queryable } from './db.js';
import { StoreError } from './errors.js';

export interface LeaseTimings {
  /** A lease not renewed for this long has expired (default 15 s; $DEEPBERN_LEASE_MS). */
  ttlMs: number;
  /** How often an owner renews its lease (default 3 s, at most a third of the TTL; $DEEPBERN_HEARTBEAT_MS). */
  heartbeatMs: number;
}

export function leaseTimings(env: NodeJS.ProcessEnv = process.env, given: Partial<LeaseTimings> = {}): LeaseTimings {
  const num = (v: string | undefined) =>
    v !== undefined && /^\d+$/.test(v.trim()) && Number(v) > 0 ? Number(v) : undefined;
  const ttlMs = given.ttlMs ?? num(env.DEEPBERN_LEASE_MS) ?? 15_000;
  const heartbeatMs = Math.min(
    given.heartbeatMs ?? num(env.DEEPBERN_HEARTBEAT_MS) ?? 3_000,
    Math.max(1, Math.floor(ttlMs / 3)),
  );
  return { ttlMs, heartbeatMs };
}

export interface OwnerInfo {
  id: string;
  pid: number;
  host: string;
  /** What the owner is, for the message a second process prints: e.g. `deepbern sweep run`, `the app`. */
  command: string;
  startedAt: number;
  heartbeatAt: number;
  expiresAt: number;
}

interface OwnerRow {
  id: string;
  pid: number;
  host: string;
  command: string;
  started_at: number;
  heartbeat_at: number;
  expires_at: number;
}

const toInfo = (r: OwnerRow): OwnerInfo => ({
  id: r.id,
  pid: r.pid,
  host: r.host,
  command: r.command,
  startedAt: r.started_at,
  heartbeatAt: r.heartbeat_at,
  expiresAt: r.expires_at,
});

/** "pid 123 on host (deepbern sweep run, heartbeat 2 s ago)" */
export function describeOwner(o: OwnerInfo, now = Date.now()): string {
  return `pid ${o.pid} on ${o.host} (${o.command}, heartbeat ${Math.max(0, Math.round((now - o.heartbeatAt) / 1000))} s ago)`;
}

/** Raised when a live process owns what the caller wanted to drive. */
export class OwnedError extends StoreError {
  constructor(
    message: string,
    readonly owner: OwnerInfo,
  ) {
    super(message, 'owned');
  }
}

export async function registerOwner(
  q: Queryable,
  o: { id: string; command: string },
  timings: LeaseTimings,
): Promise<void> {
  const now = Date.now();
  await q.run(
    'INSERT INTO owners (id, pid, host, command, started_at, heartbeat_at, expires_at) VALUES (?,?,?,?,?,?,?)',
    [o.id, process.pid, hostname(), o.command, now, now, now + timings.ttlMs],
  );
}

/** Renews the lease; false when the row is gone (the owner was declared dead and cleaned up). */
export async function renewOwner(q: Queryable, id: string, timings: LeaseTimings): Promise<boolean> {
  const now = Date.now();
  return (
    (await q.run('UPDATE owners SET heartbeat_at = ?, expires_at = ? WHERE id = ?', [now, now + timings.ttlMs, id]))
      .changes === 1
  );
}

export async function removeOwner(q: Queryable, id: string): Promise<void> {
  await q.run('DELETE FROM owners WHERE id = ?', [id]);
}

/** On this host a lease can end early: the process is gone (killed, crashed) even if its lease has time left. */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'; // EPERM: alive, another user's
  }
}

/** Expire the leases of owners on this host whose process no longer exists. */
async function expireVanished(q: Queryable, now: number): Promise<void> {
  const here = await q.all<{ id: string; pid: number }>(
    'SELECT id, pid FROM owners WHERE host = ? AND expires_at > ?',
    [hostname(), now],
  );
  for (const o of here)
    if (o.pid !== process.pid && processGone(o.pid))
      await q.run('UPDATE owners SET expires_at = ? WHERE id = ?', [now, o.id]);
}

/** The live owner of a run or sweep, or null (none, or its lease expired). */
export async function liveOwnerOf(q: Queryable, table: 'runs' | 'sweeps', id: string): Promise<OwnerInfo | null> {
  const now = Date.now();
  await expireVanished(q, now);
  const row = await q.get<OwnerRow>(
    `SELECT o.* FROM ${table} t JOIN owners o ON o.id = t.owner_id WHERE t.id = ? AND o.expires_at > ?`,
    [id, now],
  );
  return row ? toInfo(row) : null;
}

/**
 * Makes `ownerId` the owner of the run or sweep, unless another live owner has it (OwnedError naming it).
 * Call inside a transaction with whatever status change goes with it.
 */
export async function claim(
  q: Queryable,
  table: 'runs' | 'sweeps',
  id: string,
  ownerId: string,
  what: string,
): Promise<void> {
  const owner = await liveOwnerOf(q, table, id);
  if (owner && owner.id !== ownerId)
    throw new OwnedError(`${what} is being run by ${describeOwner(owner)}; it is not taken over`, owner);
  await q.run(`UPDATE ${table} SET owner_id = ? WHERE id = ?`, [ownerId, id]);
}

export async function release(q: Queryable, table: 'runs' | 'sweeps', id: string, ownerId: string): Promise<void> {
  await q.run(`UPDATE ${table} SET owner_id = NULL WHERE id = ? AND owner_id = ?`, [id, ownerId]);
}

/** The error a reaped run carries: who stopped without finishing it. */
function interruptedError(pid: number | null, host: string | null): string {
  const who = pid !== null ? `its process (pid ${pid} on ${host})` : 'its process';
  return `${who} stopped without finishing it; resume continues from its last checkpoint`;
}

/**
 * What reaping would mark `interrupted` (id → the error it would store), read without writing anything:
 * read-only opens (listings, a read-only file) show a dead owner's run as interrupted although they cannot store it.
 */
export async function orphanedIds(q: Queryable): Promise<{ runs: Map<string, string>; sweeps: Map<string, string> }> {
  const now = Date.now();
  const owners = await q.all<{ id: string; pid: number; host: string; expires_at: number }>(
    'SELECT id, pid, host, expires_at FROM owners',
  );
  const live = new Set(
    owners
      .filter((o) => o.expires_at > now && (o.host !== hostname() || o.pid === process.pid || !processGone(o.pid)))
      .map((o) => o.id),
  );
  const byId = new Map(owners.map((o) => [o.id, o]));
  const dead = async (t: 'runs' | 'sweeps') =>
    new Map(
      (await q.all<{ id: string; owner_id: string | null }>(`SELECT id, owner_id FROM ${t} WHERE status = 'running'`))
        .filter((r) => r.owner_id === null || !live.has(r.owner_id))
        .map((r) => {
          const o = r.owner_id === null ? undefined : byId.get(r.owner_id);
          return [r.id, interruptedError(o?.pid ?? null, o?.host ?? null)] as const;
        }),
    );
  return { runs: await dead('runs'), sweeps: await dead('sweeps') };
}

/** Runs and sweeps whose owner is dead (or that were left running with no owner) become `interrupted`. */
export async function reapExpired(q: Queryable): Promise<{ runs: string[]; sweeps: string[] }> {
  const now = Date.now();
  await expireVanished(q, now);
  const orphan = (t: string) =>
    `${t}.status = 'running' AND (${t}.owner_id IS NULL OR NOT EXISTS (SELECT 1 FROM owners o WHERE o.id = ${t}.owner_id AND o.expires_at > ?))`;
  const runs = await q.all<{ id: string; pid: number | null; host: string | null; error: string | null }>(
    `SELECT r.id, o.pid, o.host FROM runs r LEFT JOIN owners o ON o.id = r.owner_id WHERE ${orphan('r')}`,
    [now],
  );
  for (const r of runs) {
    await q.run(
      `UPDATE runs SET status = 'interrupted', owner_id = NULL, cancel_requested = 0, finished_at = ?, error = ? WHERE id = ? AND status = 'running'`,
      [now, interruptedError(r.pid, r.host), r.id],
    );
  }
  const sweeps = await q.all<{ id: string }>(`SELECT s.id FROM sweeps s WHERE ${orphan('s')}`, [now]);
  for (const s of sweeps)
    await q.run(`UPDATE sweeps SET status = 'interrupted', owner_id = NULL, updated_at = ? WHERE id = ?`, [now, s.id]);
  // Owners dead for a day are history: nothing points at them that reaping has not cleared.
  await q.run(
    'DELETE FROM owners WHERE expires_at < ? AND id NOT IN (SELECT owner_id FROM runs WHERE owner_id IS NOT NULL UNION SELECT owner_id FROM sweeps WHERE owner_id IS NOT NULL)',
    [now - 86_400_000],
  );
  return { runs: runs.map((r) => r.id), sweeps: sweeps.map((s) => s.id) };
}

/** Ids of the runs this owner holds that another process asked to cancel. */
export async function cancelRequests(q: Queryable, ownerId: string): Promise<{ runs: string[]; sweeps: string[] }> {
  const runs = await q.all<{ id: string }>(
    "SELECT id FROM runs WHERE owner_id = ? AND cancel_requested = 1 AND status = 'running'",
    [ownerId],
  );
  const sweeps = await q.all<{ id: string }>("SELECT id FROM sweeps WHERE owner_id = ? AND status = 'cancelled'", [
    ownerId,
  ]);
  return { runs: runs.map((r) => r.id), sweeps: sweeps.map((s) => s.id) };
}

/** Asks the run's owner (another process) to cancel it; it stops within a heartbeat. */
export async function requestCancel(q: Queryable, runId: string): Promise<void> {
  await q.run('UPDATE runs SET cancel_requested = 1 WHERE id = ?', [runId]);
}
