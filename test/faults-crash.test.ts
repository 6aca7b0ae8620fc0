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
const EPOCHS = 4;

/** Deterministic per trial, so a failure can be replayed with the same kill delay. */
function killDelayMs(trial: number): number {
  const x = Math.sin(trial * 12.9898 + 78.233) * 43758.5453;
  return 400 + Math.floor((x - Math.floor(x)) * 5000);
}

describe(`crash trials (${TRIALS})`, () => {
  it(`${TRIALS} random SIGKILLs: 0 lost, 0 corrupt`, async () => {
    let lost = 0;
    let corrupt = 0;
    let midRun = 0;
    const file = join(tmp.dir, 'sweep.yaml');
    writeFileSync(file, `name: crash
dataset: synthetic-higgs
rows: 800
base: {depth: 3, width: 8, epochs: ${EPOCHS}, batchSize: 32}
parameters:
  activation: {values: [bernstein, relu]}
`);
    for (let trial = 1; trial <= TRIALS; trial++) {
      const db = join(tmp.dir, `trial-${trial}.db`);
      const child = cliAsync(['sweep', 'run', file, '--workers', '2', '--db', db]);
      const delay = killDelayMs(trial);
      await new Promise((r) => setTimeout(r, delay));
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
      if (!finishedBeforeKill) expect(resumed.code, `trial ${trial} (kill at ${delay} ms): ${resumed.stderr}`).toBe(0);
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
