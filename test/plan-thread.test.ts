// The server plans sweeps off its event loop in worker threads that stay warm between plans: the sweep builder
// re-plans on every edit, and starting a thread per plan cost 1–2 s on a loaded machine (the e2e launch timed out).
import { describe, expect, it } from 'vitest';
import { parseSweepText, planSweep, SweepError } from '../shared/sweep.js';
import { closePlanners, planSweepOffThread, plannerStats } from '../src-main/service/plan-thread.js';

const sweep = (values: string) =>
  `name: warm\ndataset: synthetic-higgs\nrows: 200\nbase: {depth: 2, width: 4, epochs: 1}\nparameters:\n  activation: {values: [${values}]}\n`;

describe('off-thread sweep planning', () => {
  it('reuses one warm thread for consecutive plans, user errors included; the same plan as inline', async () => {
    await closePlanners();
    const before = plannerStats().started;
    for (const values of ['bernstein', 'bernstein, relu', 'relu, selu, gelu']) {
      expect(await planSweepOffThread(sweep(values))).toEqual(planSweep(parseSweepText(sweep(values))));
    }
    await expect(planSweepOffThread(sweep('nope'))).rejects.toBeInstanceOf(SweepError);
    expect(await planSweepOffThread(sweep('relu'))).toMatchObject({ total: 1 });
    expect(plannerStats().started - before).toBe(1);
    expect(plannerStats().idle).toBe(1);
  });

  it('two plans at once use two threads; closed threads are replaced by a fresh one', async () => {
    await closePlanners();
    const before = plannerStats().started;
    await Promise.all([planSweepOffThread(sweep('relu')), planSweepOffThread(sweep('selu'))]);
    expect(plannerStats()).toEqual({ started: before + 2, idle: 2 });
    await closePlanners();
    expect(plannerStats().idle).toBe(0);
    expect(await planSweepOffThread(sweep('gelu'))).toMatchObject({ total: 1 });
    expect(plannerStats()).toEqual({ started: before + 3, idle: 1 });
    await closePlanners();
  });
});
