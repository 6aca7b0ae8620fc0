// Crash trials: SIGKILL a running sweep at random moments (mid-epoch, mid-checkpoint write, mid-insert), resume,
// and check nothing was lost or corrupted. Lease trials: SIGKILL a `train`, let its lease expire, resume it.
// Two-owner trials: two `sweep resume` of one killed sweep at once; exactly one drives it. After every trial no
// run is left `running` without a live owner. `npm run test:faults` runs 20 + 5 + 5 trials; `npm test` 3 + 1 + 1.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliAsync, tempDir } from './support/cli.js';
import { query } from './support/sqlite-query.js';
import { FAST_LEASE_ENV } from './support/wait.js';

const TRIALS = Number(process.env.DEEPBERN_FAULT_TRIALS ?? 3);
const LEASE_TRIALS = Number(process.env.DEEPBERN_LEASE_TRIALS ?? 1);
const OWNER_TRIALS = Number(process.env.DEEPBERN_OWNER_TRIALS ?? 1);
/** Short leases so an expiry happens within a trial (the CLI children inherit them). */
const LEASES = FAST_LEASE_ENV;
const tmp = tempDir('deepbern-faults-');
afterAll(() => tmp.cleanup());

type Row = { run_id: string; epoch: number; metric: string; value: number | null };
const EPOCHS = 6;

/** Deterministic per trial (replayable): kill once this many epochs are stored, then this many ms later. */
function killPoint(trial: number): { epochs: number; extraMs: number } {
  const x = Math.sin(trial * 12.9898 + 78.233) * 43758.5453;
  const r = x - Math.floor(x);
  return { epochs: 1 + Math.floor(r * (2 * EPOCHS - 3)), extraMs: Math.floor(((r * 7919) % 1) * 150) };
}

/** Runs a trial left `running` whose owner is gone or missing (must be none once nothing drives the DB). */
async function orphans(db: string): Promise<number> {
  const rows = await query<{ n: number }>(
    db,
    `SELECT count(*) n FROM runs r WHERE r.status = 'running' AND NOT EXISTS (SELECT 1 FROM owners o WHERE o.id = r.owner_id AND o.expires_at > ?)`,
    [Date.now()],
  );
  return rows[0].n;
}

async function storedEpochs(db: string): Promise<number> {
  try {
    return (await query<{ n: number }>(db, "SELECT COUNT(*) n FROM epoch_metrics WHERE metric = 'train_loss'"))[0].n;
  } catch {
    return 0; // not created yet
  }
}

describe(`crash trials (${TRIALS})`, () => {
  it(
    `${TRIALS} random SIGKILLs: 0 lost, 0 corrupt`,
    async () => {
      let lost = 0;
      let corrupt = 0;
      let midRun = 0;
      let orphaned = 0;
      const file = join(tmp.dir, 'sweep.yaml');
      writeFileSync(
        file,
        `name: crash
dataset: synthetic-higgs
rows: 3200
base: {depth: 4, width: 16, epochs: ${EPOCHS}, batchSize: 32}
parameters:
  activation: {values: [bernstein, relu]}
`,
      );
      for (let trial = 1; trial <= TRIALS; trial++) {
        const db = join(tmp.dir, `trial-${trial}.db`);
        const child = cliAsync(['sweep', 'run', file, '--workers', '2', '--db', db]);
        // Kill at a random moment of a random epoch: mid-batch, mid-checkpoint write or mid-insert.
        const at = killPoint(trial);
        const deadline = Date.now() + 120_000;
        while ((await storedEpochs(db)) < at.epochs && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 25));
        await new Promise((r) => setTimeout(r, at.extraMs));
        const delay = `${at.epochs} epochs + ${at.extraMs} ms`;
        child.child.kill('SIGKILL');
        await child.done;
        let before: Row[] = [];
        let sweepId: string | undefined;
        try {
          before = await query<Row>(db, 'SELECT run_id, epoch, metric, value FROM epoch_metrics');
          sweepId = (await query<{ id: string }>(db, 'SELECT id FROM sweeps'))[0]?.id;
        } catch {
          // killed before the DB or the sweep existed: nothing to lose in this trial
        }
        if (!sweepId) continue;
        const resumed = cli(['sweep', 'resume', sweepId, '--workers', '2', '--db', db]);
        const finishedBeforeKill = /nothing to resume/.test(resumed.stderr);
        if (!finishedBeforeKill) midRun++;
        if (!finishedBeforeKill)
          expect(resumed.code, `trial ${trial} (kill after ${delay}): ${resumed.stderr}`).toBe(0);
        const integrity = await query<{ integrity_check: string }>(db, 'PRAGMA integrity_check');
        if (integrity[0]?.integrity_check !== 'ok') corrupt++;
        const after = await query<Row>(db, 'SELECT run_id, epoch, metric, value FROM epoch_metrics');
        const afterMap = new Map(after.map((r) => [`${r.run_id}/${r.epoch}/${r.metric}`, r.value]));
        for (const b of before) if (afterMap.get(`${b.run_id}/${b.epoch}/${b.metric}`) !== b.value) lost++;
        const perEpoch = await query<{ run_id: string; epoch: number; n: number }>(
          db,
          "SELECT run_id, epoch, COUNT(*) n FROM epoch_metrics WHERE metric = 'train_loss' GROUP BY run_id, epoch",
        );
        expect(perEpoch, `trial ${trial}`).toHaveLength(2 * EPOCHS);
        const runs = await query<{ status: string; epochs_done: number }>(db, 'SELECT status, epochs_done FROM runs');
        expect(runs, `trial ${trial}`).toEqual([
          { status: 'finished', epochs_done: EPOCHS },
          { status: 'finished', epochs_done: EPOCHS },
        ]);
        const checkpoints = await query<{ epoch: number }>(db, 'SELECT epoch FROM checkpoints');
        for (const c of checkpoints) expect(c.epoch).toBe(EPOCHS);
        orphaned += await orphans(db);
      }
      process.stdout.write(
        `${TRIALS} trials (${midRun} killed mid-sweep), ${lost} lost, ${corrupt} corrupt, ${orphaned} running without an owner\n`,
      );
      expect(orphaned).toBe(0);
      expect(midRun).toBeGreaterThan(0);
      expect(lost).toBe(0);
      expect(corrupt).toBe(0);
    },
    60_000 + TRIALS * 90_000,
  );
});

describe(`lease trials (${LEASE_TRIALS}) and two-owner trials (${OWNER_TRIALS})`, () => {
  it(
    `${LEASE_TRIALS} SIGKILLed trains: interrupted after lease expiry, resumed, 0 lost, 0 corrupt, 0 orphans`,
    async () => {
      let lost = 0;
      let corrupt = 0;
      let orphaned = 0;
      for (let trial = 1; trial <= LEASE_TRIALS; trial++) {
        const db = join(tmp.dir, `lease-${trial}.db`);
        const child = cliAsync(
          [
            'train',
            '--rows',
            '1600',
            '--depth',
            '3',
            '--width',
            '16',
            '--activation',
            trial % 2 ? 'relu' : 'bernstein',
            '--epochs',
            String(EPOCHS),
            '--batch-size',
            '32',
            '--db',
            db,
          ],
          { env: LEASES },
        );
        const at = killPoint(100 + trial);
        const deadline = Date.now() + 120_000;
        while ((await storedEpochs(db)) < Math.min(at.epochs, EPOCHS - 1) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 25));
        await new Promise((r) => setTimeout(r, at.extraMs));
        child.child.kill('SIGKILL');
        await child.done;
        const before = await query<Row>(db, 'SELECT run_id, epoch, metric, value FROM epoch_metrics');
        await new Promise((r) => setTimeout(r, 1700)); // the lease expires
        const listed = JSON.parse(cli(['runs', '--db', db, '--json'], { env: LEASES }).stdout);
        const run = listed.runs[0];
        expect(['interrupted', 'finished'], `trial ${trial}`).toContain(run.status);
        if (run.status === 'interrupted') {
          const resumed = cli(['resume', run.id, '--db', db], { env: LEASES });
          expect(resumed.code, `lease trial ${trial}: ${resumed.stderr}`).toBe(0);
        }
        if ((await query<{ integrity_check: string }>(db, 'PRAGMA integrity_check'))[0]?.integrity_check !== 'ok')
          corrupt++;
        const after = new Map(
          (await query<Row>(db, 'SELECT run_id, epoch, metric, value FROM epoch_metrics')).map((r) => [
            `${r.run_id}/${r.epoch}/${r.metric}`,
            r.value,
          ]),
        );
        for (const b of before) if (after.get(`${b.run_id}/${b.epoch}/${b.metric}`) !== b.value) lost++;
        expect(await query(db, 'SELECT status, epochs_done FROM runs'), `lease trial ${trial}`).toEqual([
          { status: 'finished', epochs_done: EPOCHS },
        ]);
        orphaned += await orphans(db);
      }
      process.stdout.write(
        `${LEASE_TRIALS} lease trials: ${lost} lost, ${corrupt} corrupt, ${orphaned} running without an owner\n`,
      );
      expect([lost, corrupt, orphaned]).toEqual([0, 0, 0]);
    },
    60_000 + LEASE_TRIALS * 90_000,
  );

  it(
    `${OWNER_TRIALS} two-owner trials: two resumes of one killed sweep, exactly one drives it, nothing cancelled`,
    async () => {
      let corrupt = 0;
      let orphaned = 0;
      let refused = 0;
      const file = join(tmp.dir, 'owners.yaml');
      writeFileSync(
        file,
        `name: owners
dataset: synthetic-higgs
rows: 3200
base: {depth: 4, width: 16, epochs: ${EPOCHS}, batchSize: 32}
parameters:
  activation: {values: [bernstein, relu]}
`,
      );
      for (let trial = 1; trial <= OWNER_TRIALS; trial++) {
        const db = join(tmp.dir, `owners-${trial}.db`);
        const first = cliAsync(['sweep', 'run', file, '--workers', '2', '--db', db], { env: LEASES });
        while ((await storedEpochs(db)) < 1) await new Promise((r) => setTimeout(r, 25));
        first.child.kill('SIGKILL');
        await first.done;
        const sweepId = (await query<{ id: string }>(db, 'SELECT id FROM sweeps'))[0]!.id;
        const a = cliAsync(['sweep', 'resume', sweepId, '--workers', '2', '--db', db], { env: LEASES });
        const b = cliAsync(['sweep', 'resume', sweepId, '--workers', '2', '--db', db], { env: LEASES });
        const results = await Promise.all([a.done, b.done]);
        const codes = results.map((r) => r.code).sort();
        // One drives it to the end; the other is refused (exit 4, naming the owner) — or, when it came after the
        // end, finds nothing to resume (exit 2). Never two drivers, never a cancel.
        expect(codes[0], `trial ${trial}: ${results.map((r) => r.stderr).join('\n---\n')}`).toBe(0);
        expect([2, 4], `trial ${trial}`).toContain(codes[1]);
        if (codes[1] === 4) {
          refused++;
          expect(results.find((r) => r.code === 4)!.stderr).toMatch(/is being run by pid \d+ on /);
        }
        if ((await query<{ integrity_check: string }>(db, 'PRAGMA integrity_check'))[0]?.integrity_check !== 'ok')
          corrupt++;
        expect(await query(db, 'SELECT status, epochs_done FROM runs'), `owner trial ${trial}`).toEqual([
          { status: 'finished', epochs_done: EPOCHS },
          { status: 'finished', epochs_done: EPOCHS },
        ]);
        const perEpoch = await query(db, "SELECT run_id, epoch FROM epoch_metrics WHERE metric = 'train_loss'");
        expect(perEpoch, `owner trial ${trial}`).toHaveLength(2 * EPOCHS);
        orphaned += await orphans(db);
      }
      process.stdout.write(
        `${OWNER_TRIALS} two-owner trials (${refused} refused with exit 4), ${corrupt} corrupt, ${orphaned} running without an owner\n`,
      );
      expect([corrupt, orphaned]).toEqual([0, 0]);
    },
    60_000 + OWNER_TRIALS * 90_000,
  );
});
