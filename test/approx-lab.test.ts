// The honest approximation lab: disjoint grids, the polynomial floor, the per-cell verdicts, and — on real tiny
// fits with a real SQLite store — that the test grid is read exactly once per fit, only after that fit's
// training and checkpoint selection are over, and that the selection does not depend on the test grid at all.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTargetFunction, TARGET_FUNCTIONS, testGridSize, uniformGrid } from '../shared/approx-targets.js';
import { FLOOR_DEGREE_CAP, polynomialFloor, valleePoussin } from '../shared/approx-floor.js';
import type { ApproxPoint } from '../shared/paper.js';
import { labGrids, SealedTestGrid } from '../workers/data/target-functions.js';
import {
  APPROX_DEFAULTS,
  approxCells,
  checkApproxOptions,
  loadApproxResults,
  runApproxLab,
  type ApproxLabOptions,
} from '../src-main/report/approx-lab.js';
import { renderApproxReport } from '../src-main/report/approx.js';
import { mlpParamCount } from '../workers/approx/fit.js';
import { RunStore } from '../src-main/store/run-store.js';
import { Ownership } from '../src-main/scheduler/ownership.js';
import type { WorkbenchEvent } from '../shared/api.js';
import { existsSync, readFileSync } from 'node:fs';
import { parseSpec } from '../shared/spec.js';
import { cli, tempDir } from './support/cli.js';

const tmp = tempDir('deepbern-approx-');

describe('lab grids', () => {
  it('the validation grid is disjoint from the train and test grids; the test grid is sealed and counts reads', () => {
    for (const rows of [32, 256, 1000]) {
      const g = labGrids('fn:sinexp', rows);
      const test = g.test.read();
      expect(g.test.reads).toBe(1);
      expect(test.x.length).toBe(testGridSize(rows));
      const others = new Set([...g.train.x, ...test.x]);
      expect(g.validation.x.length).toBe(rows);
      expect([...g.validation.x].filter((v) => others.has(v))).toEqual([]);
      expect(Math.min(...g.validation.x)).toBeGreaterThan(-1);
      expect(Math.max(...g.validation.x)).toBeLessThan(1);
      const f = findTargetFunction('fn:sinexp')!.f;
      expect(g.validation.y[3]).toBeCloseTo(f(g.validation.x[3]!), 6);
    }
  });

  it('sin(2πx)·eˣ is among the targets, each with its formula', () => {
    const t = findTargetFunction('fn:sinexp')!;
    expect(t.formula).toBe('sin(2πx)·eˣ');
    expect(t.f(0.25)).toBeCloseTo(Math.exp(0.25), 12);
    expect(TARGET_FUNCTIONS.every((x) => x.formula.length > 0)).toBe(true);
  });
});

describe('the polynomial floor E_N(f)', () => {
  it('brackets known best-approximation errors', () => {
    // E_2(|x|) = 1/8 (best quadratic: x² + 1/8); E_N(T_{N+1}) = 1 (T_{N+1} equioscillates N+2 times).
    const k = polynomialFloor(Math.abs, 2);
    expect(k.lower!).toBeLessThanOrEqual(0.125 + 1e-12);
    expect(k.upper).toBeGreaterThanOrEqual(0.125 - 1e-12);
    for (const N of [3, 8, 20]) {
      const p = polynomialFloor((x) => Math.cos((N + 1) * Math.acos(x)), N);
      expect(p.lower!).toBeLessThanOrEqual(1 + 1e-9);
      expect(p.lower!).toBeGreaterThan(0.99); // the interpolant's error is T_{N+1} itself: tight
      expect(p.upper).toBeGreaterThanOrEqual(1 - 1e-9);
    }
    // the near-best bracket is within 1 + Λ_N of itself
    const r = polynomialFloor(findTargetFunction('fn:runge')!.f, 27);
    expect(r.upper / r.lower!).toBeLessThan(1 + 1 + (2 / Math.PI) * Math.log(28) + 1e-9);
  });

  it('a polynomial of degree ≤ N, and smooth targets at high degree, are below float64 precision; huge n^L is capped', () => {
    expect(polynomialFloor((x) => 3 * x ** 3 - x + 0.5, 3).belowPrecision).toBe(true);
    const big = polynomialFloor(findTargetFunction('fn:smooth')!.f, 9 ** 6);
    expect(big).toMatchObject({ degree: 531441, belowPrecision: true, lower: null });
    const kink = polynomialFloor(Math.abs, 9 ** 6);
    expect(kink).toMatchObject({ capped: true, computedDegree: FLOOR_DEGREE_CAP, belowPrecision: false, lower: null });
    expect(kink.upper).toBeGreaterThan(0.2802 / FLOOR_DEGREE_CAP); // Bernstein's constant: E_N(|x|) ~ 0.2802/N
  });

  it('de la Vallée Poussin needs N+2 alternating points', () => {
    expect(valleePoussin([1, -2, 3, -0.5], 4)).toBe(0.5);
    expect(valleePoussin([1, 2, -3], 3)).toBeNull();
    expect(valleePoussin([1, -0.1, 2, -3, 4], 3)).toBe(2); // drop the weak -0.1 (merging 1 and 2), then the weaker end
  });
});

describe('per-cell verdicts', () => {
  const pt = (family: 'bernstein' | 'relu', depth: number, err: number, degree = 3): ApproxPoint => ({
    runId: `${family}${depth}`,
    target: 'fn:kink',
    family,
    degree: family === 'bernstein' ? degree : null,
    matchedDegree: family === 'relu' ? degree : null,
    depth,
    width: 8,
    paramCount: 10,
    bn: 'none',
    final: { index: 4, valMaxErr: err, maxErr: err, rmse: err },
    selected: { index: 2, valMaxErr: err, maxErr: err, rmse: err },
    verdictErr: err,
    clippedFrac: 0,
    finalTrainMse: err,
    steps: 10,
    seconds: 1,
  });

  it('names the winner and separates the floor from optimisation', () => {
    const f1 = polynomialFloor(Math.abs, 3).upper,
      f2 = polynomialFloor(Math.abs, 9).upper;
    const cells = approxCells([
      pt('bernstein', 1, 1.2 * f1),
      pt('relu', 1, 0.5),
      pt('bernstein', 2, 50 * f2),
      pt('relu', 2, 0.01),
    ]);
    expect(cells.map((c) => [c.depth, c.limitedBy, c.winner])).toEqual([
      [1, 'architecture floor', 'bernstein'],
      [2, 'optimisation', 'relu'],
    ]);
    expect(cells[0]!.text).toMatch(/Bernstein won.*ARCHITECTURE'S FLOOR limits it/);
    expect(cells[1]!.text).toMatch(/ReLU won.*OPTIMISATION limits it/);
    // deeper but worse than the shallower net it can represent: optimisation for certain
    const worse = approxCells([pt('bernstein', 1, 0.2), pt('bernstein', 2, 0.3)]);
    expect(worse[1]!.text).toMatch(/depth 1 did better/);
    expect(approxCells([pt('bernstein', 1, 0.2), pt('bernstein', 2, 0.21)])[1]!.text).not.toMatch(/did better/); // within ×1.1: noise
    // below the polynomial floor (only through clamping): the floor does not bind, so no floor verdict
    const lower = polynomialFloor(Math.abs, 3).lower!;
    const [beat] = approxCells([{ ...pt('bernstein', 1, 0.5 * lower), clippedFrac: 0.1 }]);
    expect(beat!.limitedBy).toBe('undetermined');
    expect(beat!.text).toMatch(/beats the best degree-3 polynomial.*10 % of pre-activations were clamped/);
  });
});

describe('the lab never reads the test grid before its verdict', () => {
  const O: ApproxLabOptions = {
    ...APPROX_DEFAULTS,
    targets: ['fn:sinexp'],
    depths: [1, 2],
    degrees: [3],
    steps: 24,
    gridPoints: 32,
    reports: 4,
    bn: 'none',
    backend: 'cpu',
  };

  it(
    'affine batch norm: the parameter count the ReLU match uses is the model count, and a tiny fit runs',
    { timeout: 120_000 },
    async () => {
      const store = await RunStore.open(join(tmp.dir, 'affine.db'));
      try {
        const r = await runApproxLab(store, { ...O, bn: 'affine', depths: [2], relu: false });
        const [p] = r.points;
        expect(p).toMatchObject({
          bn: 'affine',
          paramCount: mlpParamCount({ activation: 'bernstein', depth: 2, width: 8, degree: 3, bnAffine: true }),
        });
        expect(p!.paramCount - mlpParamCount({ activation: 'bernstein', depth: 2, width: 8, degree: 3 })).toBe(
          2 * 2 * 8,
        ); // γ, β per unit and layer
        expect((await store.getRun(p!.runId)).spec).toMatchObject({ batchNorm: true, bnAffine: true });
        expect(Number.isFinite(p!.verdictErr)).toBe(true);
      } finally {
        await store.close();
      }
    },
  );

  it('refuses non-affine batch norm and unknown targets before storing anything', () => {
    expect(() => checkApproxOptions({ ...O, bn: 'non-affine' as never })).toThrow(/affine or none/);
    expect(() => checkApproxOptions({ ...O, targets: ['fn:nope'] })).toThrow(/unknown target function fn:nope/);
    expect(() => checkApproxOptions({ ...O, select: 'best-on-test' as never })).toThrow(/validation or final/);
  });

  it(
    'one test-grid read per fit, after all of its report points; the selection ignores the test grid',
    { timeout: 120_000 },
    async () => {
      const store = await RunStore.open(join(tmp.dir, 'lab.db'));
      try {
        const log: string[] = [];
        const r = await runApproxLab(store, O, undefined, {
          onReport: (fit, i) => log.push(`report ${fit}.${i}`),
          onTestRead: (fit) => log.push(`test ${fit}`),
        });
        expect(r.points).toHaveLength(4); // Bern and matched ReLU at L = 1, 2
        const expected = [1, 2, 3, 4].flatMap((fit) =>
          [1, 2, 3, 4].map((i) => `report ${fit}.${i}`).concat(`test ${fit}`),
        );
        expect(log).toEqual(expected);

        // The same lab with a poisoned test grid: identical selections and validation errors, only test numbers move.
        const poisoned = await runApproxLab(store, O, undefined, {
          testGrid: (target, rows, onRead) => {
            const n = testGridSize(rows);
            return new SealedTestGrid(
              target,
              n,
              () => ({ ...uniformGrid(n, () => 0), y: new Float32Array(n).fill(1e3) }),
              onRead,
            );
          },
        });
        expect(poisoned.points.map((p) => [p.selected!.index, p.selected!.valMaxErr, p.final.valMaxErr])).toEqual(
          r.points.map((p) => [p.selected!.index, p.selected!.valMaxErr, p.final.valMaxErr]),
        );
        expect(poisoned.points.every((p) => p.final.maxErr > 900)).toBe(true);
        expect(r.points.every((p) => p.final.maxErr < 100 && p.selected!.maxErr < 100)).toBe(true);

        // The selection is the argmin of the stored validation series; the test grid's numbers sit on the last epoch only.
        for (const p of r.points) {
          const [val, test] = await store.epochSeries(p.runId, ['val_max_err', 'max_abs_err']);
          expect(val!.epochs).toEqual([1, 2, 3, 4]);
          const best = Math.min(...val!.values);
          expect(p.selected!.valMaxErr).toBeCloseTo(best, 6);
          expect(val!.values.indexOf(best) + 1).toBe(p.selected!.index);
          expect(test!.epochs).toEqual([4]);
          expect(test!.values[0]).toBeCloseTo(p.final.maxErr, 6);
          expect(p.verdictErr).toBe(p.selected!.maxErr); // select: validation
        }

        // Read back from the store: both checkpoints, the floor per cell, and the page says which one the verdict uses.
        const back = await loadApproxResults(store, r.tag);
        expect(back.legacy).toBe(false);
        expect(back.points.map((p) => [p.runId, p.final.maxErr, p.selected!.maxErr, p.selected!.index])).toEqual(
          r.points.map((p) => [
            p.runId,
            expect.closeTo(p.final.maxErr, 6),
            expect.closeTo(p.selected!.maxErr, 6),
            p.selected!.index,
          ]),
        );
        expect(back.cells.map((c) => [c.depth, c.floor.degree])).toEqual([
          [1, 3],
          [2, 9],
        ]);
        expect(back.cells.every((c) => /won|tie/.test(c.text) && /limits it|precision|diverged/.test(c.text))).toBe(
          true,
        );
        expect(back.targets).toEqual([{ id: 'fn:sinexp', title: 'Sine × exp', formula: 'sin(2πx)·eˣ', smooth: true }]);
        expect(back.settings).toMatchObject({
          select: 'validation',
          bn: 'none',
          valPoints: 32,
          testPoints: 2001,
          reports: 4,
        });
        const html = renderApproxReport(back);
        expect(html).toContain('Verdict uses the validation-selected report point');
        expect(html).toContain('sin(2πx)·eˣ');
        expect(html).toContain('floor E_{n^L}');
      } finally {
        await store.close();
      }
    },
  );
});

describe('the lab on the worker pool', () => {
  it(
    'trains on 2 threads, stores the same kind of results, reads each test grid once after that fit, reports in plan order',
    { timeout: 180_000 },
    async () => {
      const store = await RunStore.open(join(tmp.dir, 'pool.db'));
      try {
        const log: string[] = [];
        const progress: number[] = [];
        const O: ApproxLabOptions = {
          ...APPROX_DEFAULTS,
          targets: ['fn:smooth'],
          depths: [1, 2],
          degrees: [3],
          steps: 24,
          gridPoints: 32,
          reports: 3,
          bn: 'affine',
          backend: 'cpu',
          workers: 2,
        };
        const r = await runApproxLab(store, O, (f) => progress.push(f.index), {
          onReport: (fit, i) => log.push(`report ${fit}.${i}`),
          onTestRead: (fit) => log.push(`test ${fit}`),
        });
        expect(progress).toEqual([1, 2, 3, 4]);
        expect(r.points.map((p) => [p.family, p.depth])).toEqual([
          ['bernstein', 1],
          ['relu', 1],
          ['bernstein', 2],
          ['relu', 2],
        ]);
        for (const fit of [1, 2, 3, 4]) {
          const mine = log.filter((l) => l.startsWith(`report ${fit}.`) || l === `test ${fit}`);
          expect(mine).toEqual([`report ${fit}.1`, `report ${fit}.2`, `report ${fit}.3`, `test ${fit}`]);
        }
        expect(r.points.every((p) => Number.isFinite(p.final.maxErr) && Number.isFinite(p.selected!.maxErr))).toBe(
          true,
        );
        for (const p of r.points) expect((await store.getRun(p.runId)).status).toBe('finished');
      } finally {
        await store.close();
      }
    },
  );
});

describe('labs stored before validation selection', () => {
  it(
    'load as legacy: their test-grid "best" is not shown, the verdict uses the final fit; `approx --show` renders them',
    { timeout: 120_000 },
    async () => {
      const db = join(tmp.dir, 'legacy.db');
      const store = await RunStore.open(db);
      try {
        // What the old lab stored: max_abs_err (test grid) at every report point, non-affine batch norm, no val_max_err.
        const spec = parseSpec({
          dataset: 'fn:smooth',
          rows: 64,
          depth: 1,
          width: 8,
          activation: 'bernstein',
          degree: 3,
          eps: 0.01,
          bounds: [-3, 3],
          batchSize: 64,
          epochs: 2,
          lr: 0.01,
          seed: 0,
          evalBatch: 64,
        });
        const id = await store.createRun({
          spec,
          name: 'approx old',
          epochsTotal: 2,
          tags: [
            'approx-lab',
            'lab:old1',
            'target:fn:smooth',
            'family:bernstein',
            'steps:20',
            'lr:0.01->0.0001 geometric',
          ],
        });
        await store.markRunning(id, 'cpu', 57);
        await store.appendEpoch(id, {
          epoch: 1,
          metrics: { train_loss: 0.3, test_loss: 0.2, max_abs_err: 0.5 },
          layers: [],
        });
        await store.appendEpoch(id, {
          epoch: 2,
          metrics: { train_loss: 0.3, test_loss: 0.25, max_abs_err: 0.7 },
          layers: [],
        });
        await store.finishRun(id, 'finished');
        const back = await loadApproxResults(store, 'lab:old1');
        expect(back.legacy).toBe(true);
        expect(back.settings.select).toBe('final');
        expect(back.points[0]).toMatchObject({
          bn: 'non-affine',
          selected: null,
          verdictErr: 0.7,
          final: { maxErr: 0.7 },
        });
      } finally {
        await store.close();
      }
      const out = join(tmp.dir, 'legacy.html');
      const r = cli(['approx', '--show', '--db', db, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/legacy: selected on the test grid/);
      expect(readFileSync(out, 'utf8')).toContain('Stored before validation selection');
      const none = cli(['approx', '--show', 'lab:nope', '--db', db, '--out', out]);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/no stored approximation lab has the tag lab:nope/);
      // bad choices are refused before anything is trained or stored
      const fresh = join(tmp.dir, 'never.db');
      const bad = cli(['approx', '--bn', 'non-affine', '--db', fresh, '--out', out]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/bn must be affine or none \(got non-affine\)/);
      expect(existsSync(fresh)).toBe(false);
    },
  );
});

describe('the lab records its fits like every run', () => {
  it(
    'leased while they train (another process reaping beside it never takes them), with run events, released when done',
    { timeout: 180_000 },
    async () => {
      const db = join(tmp.dir, 'leased.db');
      // Another process with the DB open (the app beside a CLI lab): its heartbeat reaps whatever running run has
      // no live owner, every 100 ms here.
      const other = await RunStore.open(db);
      const beside = await Ownership.start(other, {
        command: 'the desktop app',
        timings: { ttlMs: 600, heartbeatMs: 100 },
      });
      const store = await RunStore.open(db);
      const seen = new Set<string>();
      let watching = true;
      const watch = (async () => {
        while (watching) {
          for (const r of await other.db.all<{ status: string; command: string | null }>(
            "SELECT r.status, o.command FROM runs r LEFT JOIN owners o ON o.id = r.owner_id WHERE r.kind = 'approx'",
          ))
            seen.add(`${r.status} ${r.command ?? '-'}`);
          await new Promise((res) => setTimeout(res, 20));
        }
      })();
      try {
        const events: WorkbenchEvent[] = [];
        const O: ApproxLabOptions = {
          ...APPROX_DEFAULTS,
          targets: ['fn:smooth'],
          depths: [1, 2],
          degrees: [3],
          steps: 600,
          gridPoints: 64,
          reports: 3,
          bn: 'none',
          relu: false,
          backend: 'cpu',
          workers: 0,
        };
        const r = await runApproxLab(store, O, undefined, {}, { emit: (e) => events.push(e) });
        watching = false;
        await watch;
        expect([...seen].filter((s) => s.startsWith('running'))).toEqual(['running deepbern approx']);
        expect([...seen].some((s) => s.startsWith('interrupted'))).toBe(false);
        for (const p of r.points) {
          expect((await store.getRun(p.runId)).status).toBe('finished');
          const mine = events
            .filter((e) => 'runId' in e && e.runId === p.runId)
            .map((e) =>
              e.type === 'run-status' ? `status ${e.status}` : e.type === 'run-epoch' ? `epoch ${e.epoch}` : e.type,
            );
          expect(mine).toEqual(['status running', 'run-start', 'epoch 1', 'epoch 2', 'epoch 3', 'status finished']);
        }
        expect(await store.db.all('SELECT id FROM runs WHERE owner_id IS NOT NULL')).toEqual([]);
        expect(await store.db.all("SELECT id FROM owners WHERE command = 'deepbern approx'")).toEqual([]); // its lease ended with it
      } finally {
        watching = false;
        await watch;
        await beside.stop();
        await store.close();
        await other.close();
      }
    },
  );
});
