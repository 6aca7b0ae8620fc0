// TPE proposals, hyperband rungs and parameter importance, on synthetic histories (pure functions, no DB).
import { describe, expect, it } from 'vitest';
import type { ParamDef, ParamValue } from '../shared/sweep.js';
import { goodCount, proposeTpe, splitTrials, type TpeTrial } from '../shared/tpe.js';
import { hyperbandBracket, hyperbandBrackets, hyperbandRungs, shouldStop } from '../src-main/scheduler/early-stop.js';
import { parameterImportance } from '../src-main/report/importance.js';

const space: Record<string, ParamDef> = {
  lr: { min: 1e-4, max: 1e-1, distribution: 'log_uniform' },
  degree: { min: 2, max: 12, distribution: 'int' },
  eps: { min: 0, max: 0.1, distribution: 'uniform' },
  activation: { values: ['bernstein', 'relu', 'gelu'] },
  variant: { values: [{ batchNorm: true }, { batchNorm: false, residual: true }] },
  width: { value: 32 },
};

/** A closed-form stand-in for training: best at lr = 1e-2, degree 8, eps 0.03, bernstein, with batch norm. */
function objective(p: Record<string, ParamValue>): number {
  const lr = p.lr as number;
  const v = p.variant as { batchNorm: boolean };
  return (
    (Math.log10(lr) + 2) ** 2 +
    0.05 * ((p.degree as number) - 8) ** 2 +
    100 * ((p.eps as number) - 0.03) ** 2 +
    (p.activation === 'bernstein' ? 0 : 0.5) +
    (v.batchNorm ? 0 : 0.3)
  );
}

function runTpe(seed: number, n: number, concurrency = 1): TpeTrial[] {
  const history: TpeTrial[] = [];
  for (let i = 0; i < n; i++) {
    // The last `concurrency - 1` proposals are still in flight when this one is made.
    const visible = history.map((t, j) =>
      j >= i - (concurrency - 1) ? { ...t, state: 'running' as const, value: undefined } : t,
    );
    const params = proposeTpe(space, visible, { seed, index: i, goal: 'minimize' });
    history.push({ index: i, params, state: 'complete', value: objective(params), epochs: 5 });
  }
  return history;
}

describe('TPE sampler', () => {
  it('is deterministic for a seed and history, and differs across seeds', () => {
    const a = runTpe(3, 25);
    const b = runTpe(3, 25);
    expect(b).toEqual(a);
    const c = runTpe(4, 25);
    expect(c.map((t) => t.params)).not.toEqual(a.map((t) => t.params));
  });

  it('respects categorical, log-uniform, int, constant and variant parameters', () => {
    for (const t of runTpe(11, 40, 2)) {
      const p = t.params;
      expect(p.lr as number).toBeGreaterThanOrEqual(1e-4);
      expect(p.lr as number).toBeLessThanOrEqual(1e-1);
      expect(Number.isInteger(p.degree)).toBe(true);
      expect(p.degree as number).toBeGreaterThanOrEqual(2);
      expect(p.degree as number).toBeLessThanOrEqual(12);
      expect(p.eps as number).toBeGreaterThanOrEqual(0);
      expect(p.eps as number).toBeLessThanOrEqual(0.1);
      expect(['bernstein', 'relu', 'gelu']).toContain(p.activation);
      expect([{ batchNorm: true }, { batchNorm: false, residual: true }]).toContainEqual(p.variant);
      expect(p.width).toBe(32);
    }
    // Log-uniform: the startup draws cover the decades evenly, not crowded near the top.
    const lrs = Array.from(
      { length: 200 },
      (_, i) => proposeTpe({ lr: space.lr }, [], { seed: 1, index: i, goal: 'minimize' }).lr as number,
    );
    const below1e3 = lrs.filter((x) => x < 1e-3).length / lrs.length;
    expect(below1e3).toBeGreaterThan(0.2);
    expect(below1e3).toBeLessThan(0.47);
  });

  it('the same completed history gives the same next proposal (resume)', () => {
    const hist = runTpe(5, 15);
    const next = proposeTpe(space, hist, { seed: 5, index: 15, goal: 'minimize' });
    const again = proposeTpe(space, JSON.parse(JSON.stringify(hist)) as TpeTrial[], {
      seed: 5,
      index: 15,
      goal: 'minimize',
    });
    expect(again).toEqual(next);
  });

  it('finds a better region than random search with the same budget (mean over seeds)', () => {
    let tpe = 0;
    let rnd = 0;
    for (let seed = 0; seed < 6; seed++) {
      tpe += Math.min(...runTpe(seed, 40).map((t) => t.value!));
      const random = Array.from({ length: 40 }, (_, i) =>
        objective(proposeTpe(space, [], { seed: seed + 100, index: i, goal: 'minimize' })),
      );
      rnd += Math.min(...random);
    }
    expect(tpe).toBeLessThan(rnd);
  });

  it('splits Optuna-style: best ⌈0.1n⌉ complete are good, pruned after complete, running are bad', () => {
    expect(goodCount(1)).toBe(1);
    expect(goodCount(30)).toBe(3);
    expect(goodCount(1000)).toBe(25);
    const t = (index: number, state: TpeTrial['state'], value?: number, epochs?: number): TpeTrial => ({
      index,
      params: {},
      state,
      value,
      epochs,
    });
    const { good, bad } = splitTrials(
      [
        t(0, 'complete', 5),
        t(1, 'pruned', 0.1, 1),
        t(2, 'complete', 1),
        t(3, 'running'),
        ...Array.from({ length: 16 }, (_, i) => t(4 + i, 'complete', 10 + i)),
      ],
      'minimize',
    );
    expect(good.map((x) => x.index)).toEqual([0, 2]);
    expect(bad.map((x) => x.index)).toContain(1);
    expect(bad.map((x) => x.index)).toContain(3);
    const max = splitTrials([t(0, 'complete', 5), t(1, 'complete', 9), t(2, 'complete', 1)], 'maximize');
    expect(max.good.map((x) => x.index)).toEqual([1]);
  });

  it('keeps N in-flight proposals apart (constant liar)', () => {
    const hist = runTpe(2, 20);
    const a = proposeTpe(space, hist, { seed: 2, index: 20, goal: 'minimize' });
    const withA: TpeTrial[] = [...hist, { index: 20, params: a, state: 'running' }];
    const b = proposeTpe(space, withA, { seed: 2, index: 21, goal: 'minimize' });
    expect(b).not.toEqual(a);
  });
});

describe('hyperband', () => {
  const rule = { type: 'hyperband' as const, min_epochs: 1, eta: 3, max_epochs: 27 };

  it('has log_eta(max/min)+1 brackets whose rungs start at min·eta^b', () => {
    expect(hyperbandBrackets(rule)).toBe(4);
    expect(hyperbandRungs(rule, 0)).toEqual([1, 3, 9]);
    expect(hyperbandRungs(rule, 1)).toEqual([3, 9]);
    expect(hyperbandRungs(rule, 2)).toEqual([9]);
    expect(hyperbandRungs(rule, 3)).toEqual([]);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) counts[hyperbandBracket(rule, i)]++;
    // Optuna's budgets for 4 brackets, eta 3: 27·4/4, 9·4/3, 3·4/2, 1·4/1 → 27 : 12 : 6 : 4.
    expect(counts[0]).toBeGreaterThan(counts[1]);
    expect(counts[1]).toBeGreaterThan(counts[2]);
    expect(counts[3]).toBeGreaterThan(0);
    expect(hyperbandBracket(rule, 17)).toBe(hyperbandBracket(rule, 17));
  });

  it('prunes only at its bracket rungs, keeping the top 1/eta', () => {
    const peers = [0.1, 0.2, 0.3, 0.4, 0.5];
    // Bracket 0 judges at epochs 1, 3, 9: worst of six is pruned there, never between rungs.
    expect(shouldStop(rule, 'minimize', 1, 0.9, peers, { bracket: 0, epochs: 27 })).toBe(true);
    expect(shouldStop(rule, 'minimize', 2, 0.9, peers, { bracket: 0, epochs: 27 })).toBe(false);
    expect(shouldStop(rule, 'minimize', 3, 0.9, peers, { bracket: 0, epochs: 27 })).toBe(true);
    expect(shouldStop(rule, 'minimize', 4, 0.9, peers, { bracket: 0, epochs: 27 })).toBe(false);
    // Bracket 1 starts at 3.
    expect(shouldStop(rule, 'minimize', 1, 0.9, peers, { bracket: 1, epochs: 27 })).toBe(false);
    expect(shouldStop(rule, 'minimize', 3, 0.9, peers, { bracket: 1, epochs: 27 })).toBe(true);
    // Top 1/eta survive: of six, the best two.
    expect(shouldStop(rule, 'minimize', 1, 0.15, peers, { bracket: 0, epochs: 27 })).toBe(false);
    expect(shouldStop(rule, 'minimize', 1, 0.25, peers, { bracket: 0, epochs: 27 })).toBe(true);
    expect(shouldStop(rule, 'maximize', 1, 0.45, peers, { bracket: 0, epochs: 27 })).toBe(false);
    // The first run to reach a rung is promoted.
    expect(shouldStop(rule, 'minimize', 1, 99, [], { bracket: 0, epochs: 27 })).toBe(false);
  });
});

describe('parameter importance', () => {
  it('ranks the parameter that drives the metric above two that do not', () => {
    let next = 12345;
    const rand = () => (next = (next * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const runs = Array.from({ length: 40 }, () => {
      const lr = 10 ** (-4 + 3 * rand());
      const width = [16, 32, 64][Math.floor(rand() * 3)];
      const act = ['relu', 'bernstein'][Math.floor(rand() * 2)];
      return { params: { lr, width, activation: act }, value: (Math.log10(lr) + 2.5) ** 2 + 0.01 * rand() };
    });
    const r = parameterImportance(runs, { seed: 1 });
    expect(r.params[0].param).toBe('lr');
    expect(r.params[0].importance).toBeGreaterThan(0.6);
    const sum = r.params.reduce((a, p) => a + p.importance, 0);
    expect(sum).toBeCloseTo(1, 6);
    expect(parameterImportance(runs, { seed: 1 })).toEqual(r);
  });

  it('says why when it cannot compute', () => {
    expect(parameterImportance([{ params: { a: 1 }, value: 1 }]).reason).toMatch(/at least 4/);
    const same = Array.from({ length: 5 }, (_, i) => ({ params: { a: 1 }, value: i }));
    expect(parameterImportance(same).reason).toMatch(/more than one value/);
  });
});
