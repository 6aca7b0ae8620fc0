// A database written before `init` / `bnAffine` existed: its runs' specs and model blobs lack both fields.
// It must open (migrating as usual), and every reader must show the init those runs actually used
// (he_normal for ReLU-like nets, lecun_normal for SELU/Bernstein) and non-affine batch norm.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../src-main/store/db.js';
import { MIGRATIONS, migrate } from '../src-main/store/migrations.js';
import { RunStore } from '../src-main/store/run-store.js';
import { parseSpec } from '../shared/spec.js';
import { initBackend } from '../workers/engine/backend.js';
import { saveState, loadState } from '../workers/engine/state.js';
import { trainRun } from '../workers/engine/train.js';
import { cli, tempDir } from './support/cli.js';
import { easyClassification } from './support/engine-fixtures.js';

const tmp = tempDir('deepbern-legacy-');
afterAll(() => tmp.cleanup());
const path = join(tmp.dir, 'old.db');

/** What the old code wrote as spec_json: the full spec without the two new fields. */
function oldSpec(activation: 'relu' | 'bernstein') {
  const {
    init: _init,
    bnAffine: _bnAffine,
    ...rest
  } = parseSpec({
    dataset: 'hand-easy',
    depth: 2,
    width: 6,
    activation,
    degree: 3,
    epochs: 1,
    batchSize: 32,
    evalBatch: 32,
  });
  return rest;
}

beforeAll(async () => {
  await initBackend('wasm');
  // The schema as it was (the first two migrations: nothing of ours), rows as the old code inserted them.
  const db = await Db.open(path);
  await migrate(db, MIGRATIONS.slice(0, 2));
  for (const [id, activation, label] of [
    ['rold-relu', 'relu', 'ReLU'],
    ['rold-bern', 'bernstein', 'Bern_{3,0.01}[-5,5]'],
  ] as const) {
    const spec = oldSpec(activation);
    await db.run(
      `INSERT INTO runs (id, name, spec_json, status, seed, dataset, activation, activation_label, depth, width, degree, eps, lr,
        batch_size, batch_norm, residual, backend, param_count, epochs_total, epochs_done, created_at, finished_at)
       VALUES (?, ?, ?, 'finished', 0, 'hand-easy', ?, ?, 2, 6, NULL, NULL, 0.001, 32, ?, 0, 'wasm', 0, 1, 1, ?, ?)`,
      [id, label, JSON.stringify(spec), activation, label, activation === 'bernstein' ? 1 : 0, Date.now(), Date.now()],
    );
    // A model blob as the old engine saved it: same weights (the default init reproduces them), spec without the fields.
    const result = await trainRun(parseSpec(spec), easyClassification(64, 32, 4));
    const state = loadState(result.finalState);
    const bytes = saveState({ ...state, spec: spec as typeof state.spec });
    await db.run('INSERT INTO models (run_id, state, created_at) VALUES (?, ?, ?)', [
      id,
      Buffer.from(bytes),
      Date.now(),
    ]);
  }
  await db.close();
  expect(readFileSync(path).length).toBeGreaterThan(0);
}, 120_000);

describe('a database from before init / bnAffine', () => {
  it('opens, and its runs show the init they used and non-affine batch norm', async () => {
    const store = await RunStore.open(path);
    try {
      const relu = await store.getRun('rold-relu');
      expect(relu.spec.init).toBe('he_normal');
      expect(relu.spec.bnAffine).toBe(false);
      const bern = await store.getRun('rold-bern');
      expect(bern.spec.init).toBe('lecun_normal');
      expect(bern.spec.bnAffine).toBe(false);
      expect(bern.spec.batchNorm).toBe(true);
      // the stored row itself is untouched (nothing rewritten behind the user's back)
      const raw = await store.db.get<{ spec_json: string }>("SELECT spec_json FROM runs WHERE id = 'rold-relu'");
      expect(JSON.parse(raw!.spec_json)).not.toHaveProperty('init');
    } finally {
      await store.close();
    }
  });

  it('`deepbern show` and `export-model` name the init those runs used', () => {
    const show = cli(['show', 'rold-relu', '--db', path]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/init he_normal {2}batch norm off/);
    const showJson = JSON.parse(cli(['show', 'rold-bern', '--db', path, '--json']).stdout);
    expect(showJson.run.spec).toMatchObject({ init: 'lecun_normal', bnAffine: false });
    const ex = cli(['export-model', 'rold-bern', '--db', path]);
    expect(ex.code, ex.stderr).toBe(0);
    const model = JSON.parse(ex.stdout);
    expect(model).toMatchObject({ init: 'lecun_normal', bnAffine: false });
    const bn = model.layers.find((l: { type: string }) => l.type === 'batchnorm');
    expect(bn.gamma).toEqual(Array(6).fill(1));
  });
});
