// Crash trials: SIGKILL a running sweep at random moments (mid-epoch, mid-checkpoint write, mid-insert), resume,
// and check nothing was lost or corrupted. `npm run test:faults` runs 20 trials; `npm test` a short form.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliAsync, tempDir } from './support/cli.js';
import { query } from './support/sqlite-query.js';

const TRIALS = Number(process.env.DEEPBERN_FAULT_TRIALS ?? 3);
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

async function storedEpochs(db: string): Promise<number> {
  try {
    return (await query<{ n: number }>(db, "SELECT COUNT(*) n FROM epoch_metrics WHERE metric = 'train_loss'"))[0].n;
  } catch {
    return 0; // not created yet
  }
}

describe(`crash trials (${TRIALS})`, () => {
  it(`${TRIALS} random SIGKILLs: 0 lost, 0 corrupt`, async () => {
    let lost = 0;
    let corrupt = 0;
    let midRun = 0;
    const file = join(tmp.dir, 'sweep.yaml');
    writeFileSync(file, `name: crash
dataset: synthetic-higgs
rows: 3200
base: {depth: 4, width: 16, epochs: ${EPOCHS}, batchSize: 32}
parameters:
  activation: {values: [bernstein, relu]}
`);
    for (let trial = 1; trial <= TRIALS; trial++) {
      const db = join(tmp.dir, `trial-${trial}.db`);
      const child = cliAsync(['sweep', 'run', file, '--workers', '2', '--db', db]);
      // Kill at a random moment of a random epoch: mid-batch, mid-checkpoint write or mid-insert.
      const at = killPoint(trial);
      const deadline = Date.now() + 120_000;
      while ((await storedEpochs(db)) < at.epochs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
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
      if (!finishedBeforeKill) expect(resumed.code, `trial ${trial} (kill after ${delay}): ${resumed.stderr}`).toBe(0);
      const integrity = await query<{ integrity_check: string }>(db, 'PRAGMA integrity_check');
      if (integrity[0]?.integrity_check !== 'ok') corrupt++;
      const after = await query<Row>(db, 'SELECT run_id, epoch, metric, value FROM epoch_metrics');
      const afterMap = new Map(after.map((r) => [`${r.run_id}/${r.epoch}/${r.metric}`, r.value]));
      for (const b of before) if (afterMap.get(`${b.run_id}/${b.epoch}/${b.metric}`) !== b.value) lost++;
      const perEpoch = await query<{ run_id: string; epoch: number; n: number }>(db, "SELECT run_id, epoch, COUNT(*) n FROM epoch_metrics WHERE metric = 'train_loss' GROUP BY run_id, epoch");
      expect(perEpoch, `trial ${trial}`).toHaveLength(2 * EPOCHS);
      const runs = await query<{ status: string; epochs_done: number }>(db, 'SELECT status, epochs_done FROM runs');
      expect(runs, `trial ${trial}`).toEqual([{ status: 'finished', epochs_done: EPOCHS }, { status: 'finished', epochs_done: EPOCHS }]);
      const checkpoints = await query<{ epoch: number }>(db, 'SELECT epoch FROM checkpoints');
      for (const c of checkpoints) expect(c.epoch).toBe(EPOCHS);
    }
    process.stdout.write(`${TRIALS} trials (${midRun} killed mid-sweep), ${lost} lost, ${corrupt} corrupt\n`);
    expect(midRun).toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(corrupt).toBe(0);
  }, 60_000 + TRIALS * 60_000);
});
