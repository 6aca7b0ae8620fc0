// End to end in real Chromium (web mode, real service, real worker pool) for issue 15's remaining W&B
// expectations: every screen has an address with its state (bookmark, reload, back/forward), Esc closes every
// dialog, the activation preview reads σ and σ′ under the cursor, seeds grouped in the Paper figures and the
// HTML report, the Paper final table's init column, Settings → Database → Compact, and Compare with 50 runs.
// Screenshots: test-results/e2e-nav-*.png.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './support/browser.js';
import { startWebWorkbench, stopWebWorkbench } from './support/e2e-workbench.js';
import { API_ARGS } from '../shared/api.js';
import { addRuns } from './bench/ui.js';
import { insertRows } from '../src-main/store/batch.js';
import type { SqlValue } from '../src-main/store/db.js';
import { WorkbenchService } from '../src-main/service/workbench-service.js';
import { type WebServer } from '../src-main/transports/http.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results');
const SEEDS = `name: nav-seeds
dataset: synthetic-higgs
rows: 400
seeds: 2
base: {depth: 2, width: 8, epochs: 3, batchSize: 64, evalBatch: 64, lr: 0.01}
parameters:
  activation: {values: [bernstein, relu]}
`;
const ONE = `name: nav-one
dataset: synthetic-higgs
rows: 200
base: {depth: 1, width: 4, epochs: 1, batchSize: 64, evalBatch: 64, activation: relu}
`;

let dir: string;
let dbPath: string;
let service: WorkbenchService | null = null;
let web: WebServer;
let context: BrowserContext;
let page: Page;
let consoleErrors: string[] = [];
let seedsId = '';
let oneId = '';
let fifty: string[] = [];

beforeAll(async () => {
  ({ dir, dbPath, service, web } = await startWebWorkbench('deepbern-e2e-nav-'));
  await mkdir(SHOTS, { recursive: true });
  ({ context, page, consoleErrors } = await launchBrowser(dir));
  // Two real sweeps (2 designs × 2 seeds, and one tiny run), trained by the pool.
  seedsId = (await service['sweeps.launch'](SEEDS)).id;
  oneId = (await service['sweeps.launch'](ONE)).id;
  // 50 runs with curves, written straight into the store's own tables (Compare's scale check).
  const store = service.store;
  fifty = await addRuns(store, 50, [], 5);
  const ep: SqlValue[][] = [];
  fifty.forEach((id, i) => {
    for (let e = 1; e <= 5; e++)
      for (const m of ['train_loss', 'test_loss', 'test_acc']) ep.push([id, m, e, (1 + i / 50) / e]);
  });
  await store.writeBatch(() => insertRows(store.db, 'epoch_metrics', ['run_id', 'metric', 'epoch', 'value'], ep));
  for (const id of [seedsId, oneId]) {
    const end = Date.now() + 300_000;
    while ((await service['sweeps.get'](id)).status !== 'finished') {
      if (Date.now() > end) throw new Error(`sweep ${id} did not finish in 5 min`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}, 420_000);

afterAll(() => stopWebWorkbench({ context, web, service, dir }));

const tid = (id: string) => page.getByTestId(id);
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `e2e-nav-${name}.png`), fullPage: false });
const at = (hash: string) => page.goto(web.openUrl.replace(/#.*$/, '') + hash);
const hash = () => page.evaluate(() => location.hash);
const onView = () => page.locator('.nav-item.on').getAttribute('data-testid');

describe('the workbench as W&B users expect it (Chromium, web mode)', () => {
  it('every screen has an address: back/forward walk the screens, a pasted address opens the screen with its state', async () => {
    await page.goto(web.openUrl);
    await expect.poll(() => tid('nav-designer').isVisible(), { timeout: 30_000 }).toBe(true);
    for (const v of ['runs', 'paper', 'settings']) {
      await tid(`nav-${v}`).click();
      await expect.poll(hash).toMatch(new RegExp(`^#/${v}`));
    }
    await page.goBack();
    await expect.poll(onView).toBe('nav-paper');
    await page.goBack();
    await expect.poll(onView).toBe('nav-runs');
    await page.goForward();
    await expect.poll(onView).toBe('nav-paper');

    // Settings tab: a history entry of its own, and in the address
    await tid('nav-settings').click();
    await tid('settings-tab-database').click();
    await expect.poll(hash).toBe('#/settings?tab=database');
    await expect.poll(() => tid('settings-database').isVisible()).toBe(true);
    await page.goBack();
    await expect.poll(hash).toBe('#/settings');
    await expect.poll(() => tid('settings-database').count()).toBe(0);
    await page.goForward();
    await expect.poll(() => tid('settings-database').isVisible()).toBe(true);
    // a reload (or a bookmark) opens the same tab
    await page.reload();
    await expect.poll(() => tid('settings-database').isVisible(), { timeout: 30_000 }).toBe(true);
    // leaving and coming back through the navigation keeps the tab, and says so in the address
    await tid('nav-runs').click();
    await tid('nav-settings').click();
    await expect.poll(hash).toBe('#/settings?tab=database');
  }, 120_000);

  it('Runs: search, status and sort are in the address; Designer: the open design is', async () => {
    await at('#/runs?q=nav-seeds&status=finished&sort=final.test_acc&desc=0');
    await expect.poll(() => tid('runs-search').inputValue(), { timeout: 30_000 }).toBe('nav-seeds');
    expect(await tid('runs-status').inputValue()).toBe('finished');
    await expect.poll(() => page.locator('[data-testid="run-row"]').count(), { timeout: 20_000 }).toBe(4);
    // typing replaces the address (no history entry per key)
    await tid('runs-search').fill('nav-one');
    await expect.poll(hash).toContain('q=nav-one');
    await expect.poll(() => page.locator('[data-testid="run-row"]').count(), { timeout: 20_000 }).toBe(1);
    await page.reload();
    await expect.poll(() => tid('runs-search').inputValue(), { timeout: 30_000 }).toBe('nav-one');
    await expect.poll(() => page.locator('[data-testid="run-row"]').count(), { timeout: 20_000 }).toBe(1);

    await tid('nav-designer').click();
    await tid('design-save').click();
    await expect.poll(hash, { timeout: 15_000 }).toMatch(/^#\/designer\?design=\w+/);
    const saved = await service!['designs.list']();
    expect(await hash()).toBe(`#/designer?design=${saved[0]!.id}`);
    await tid('design-name').fill('renamed, not saved');
    await page.reload(); // a bookmark of the design opens it as saved
    // The name alone can match before the bookmark loads (an unrenamed design keeps the default name): wait for
    // the design itself (its Save button names it saved) as well.
    await expect.poll(() => tid('design-save').textContent(), { timeout: 30_000 }).toBe('Save');
    expect(await tid('design-name').inputValue()).toBe(saved[0]!.name);
    // the Sweep builder's starting design
    await at(`#/sweeps?design=${saved[0]!.id}`);
    await expect.poll(() => tid('sweep-design').inputValue(), { timeout: 30_000 }).toBe(saved[0]!.id);
    await tid('sweep-design').selectOption('current');
    await expect.poll(hash).toBe('#/sweeps');
    await page.goBack();
    await expect.poll(() => tid('sweep-design').inputValue()).toBe(saved[0]!.id);
  }, 120_000);

  it('Settings → Database: the file size, the space deleted runs left, and Compact database', async () => {
    const del = await service!['runs.delete'](fifty.slice(40));
    expect(del.deleted).toBe(10);
    fifty = fifty.slice(0, 40);
    await at('#/settings?tab=database');
    const space = await service!['store.space']();
    await expect.poll(() => tid('db-file-bytes').textContent(), { timeout: 15_000 }).toMatch(/\d/);
    expect(await tid('db-space').textContent()).toMatch(space.incremental ? /background steps/ : /until you compact/);
    await shot('1-settings-database');
    await tid('db-compact').click();
    await expect
      .poll(() => tid('db-freed').textContent(), { timeout: 60_000 })
      .toMatch(/Compacted: [\d.]+ (B|KB|MB|GB) freed on disk/);
    // afterwards the reclaimable space is what the store says (0 B after a full VACUUM)
    const after = await service!['store.space']();
    expect(after.freeBytes).toBe(0);
    await expect.poll(() => tid('db-free-bytes').textContent()).toBe('0 B');
    await shot('2-settings-compacted');
  }, 120_000);

  it('Paper: the sweep is in the address (back returns to the previous sweep); seeds grouped into mean + band; init per run', async () => {
    await at(`#/paper?sweep=${oneId}`);
    await expect.poll(() => tid('paper-sweep').inputValue(), { timeout: 30_000 }).toBe(oneId);
    await expect.poll(() => page.locator('[data-testid="final-row"]').count(), { timeout: 30_000 }).toBe(1);
    await tid('paper-sweep').selectOption(seedsId);
    await expect.poll(hash).toContain(`sweep=${seedsId}`);
    await expect.poll(() => page.locator('[data-testid="final-row"]').count(), { timeout: 30_000 }).toBe(4);
    // 2 seeds per design: grouped by default (all parameters but the seed), min–max band
    expect(await tid('paper-group').isChecked()).toBe(true);
    await expect.poll(() => tid('paper-group-count').textContent()).toMatch(/2 groups of 4 runs/);
    // the legend names the groups, with real subscripts
    const legend = await page
      .locator('[data-testid="paper-legend"] button.chip .lbltext')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
    expect(legend.sort()).toEqual(['Bern_{9,0.01}[-5,5] (2 runs)', 'ReLU (2 runs)']);
    expect(await page.locator('[data-testid="paper-legend"] button.chip sub').first().textContent()).toBe('9,0.01');
    expect(await page.locator('[data-testid="figure-4"] [data-testid="series-count"]').textContent()).toBe('2 series');
    // the across-seeds table: one row per group, mean [min, max] over its finished runs
    const grows = await page.locator('[data-testid="group-row"]').allTextContents();
    expect(grows).toHaveLength(2);
    for (const g of grows) expect(g).toMatch(/2\/2\s*0, 1\s*[\d.]+% \[[\d.]+%, [\d.]+%\]/);
    // the final table names each run's init
    const inits = await page.locator('[data-testid="final-init"]').allTextContents();
    expect(inits).toHaveLength(4);
    for (const i of inits) expect(i.trim()).toMatch(/^[a-z_]+$/);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="figure-4"] canvas').length >= 1,
      undefined,
      { timeout: 30_000 },
    );
    await page.locator('[data-testid="figure-4"]').scrollIntoViewIfNeeded();
    await shot('3-paper-grouped-seeds');
    // ±1 sd, in the address
    await tid('paper-band').selectOption('sd');
    await expect.poll(hash).toContain('band=sd');
    // one line per run when grouping is off
    await tid('paper-group').uncheck();
    await expect
      .poll(() => page.locator('[data-testid="figure-4"] [data-testid="series-count"]').textContent())
      .toBe('4 series');
    await expect.poll(hash).toContain('group=0');
    // back: grouping on again; back twice more: the first sweep
    await page.goBack();
    await expect.poll(() => tid('paper-group').isChecked()).toBe(true);
    await page.goBack();
    await expect.poll(() => tid('paper-sweep').inputValue(), { timeout: 10_000 }).toBe(oneId);
    await page.goForward();
    await expect.poll(() => tid('paper-sweep').inputValue(), { timeout: 10_000 }).toBe(seedsId);
  }, 120_000);

  it("the HTML report groups seeds the same way (the app's paper.reportHtml)", async () => {
    const auto = await service!['paper.reportHtml'](seedsId);
    expect(auto).toContain('Across seeds — 2 groups of 4 runs');
    expect(auto).toContain('ReLU (2 runs)');
    expect(auto).toMatch(/grouped by all parameters but the seed/);
    // a band: the shaded area is a filled SVG path with the band's opacity
    expect(auto).toMatch(/fill-opacity="0.18"/);
    const none = await service!['paper.reportHtml'](seedsId, undefined, null);
    expect(none).not.toContain('Across seeds');
    expect(none).not.toMatch(/fill-opacity="0.18"/);
    const byAct = await service!['paper.reportHtml'](seedsId, undefined, { by: ['activation'], band: 'sd' });
    expect(byAct).toContain('Across seeds — 2 groups of 4 runs (grouped by activation)');
    // what the transports check before the call
    const bad = API_ARGS['paper.reportHtml'].safeParse([seedsId, undefined, { by: ['seedz'], band: 'sd' }]);
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/group by: each field must be one of/);
  });

  it('Esc closes every dialog: the run drawer, the Reproduce modal, the view-name field', async () => {
    await at(`#/paper?sweep=${seedsId}`);
    await page.locator('[data-testid="final-row"]').first().click();
    await expect.poll(() => tid('run-drawer').isVisible(), { timeout: 10_000 }).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => tid('run-drawer').count()).toBe(0);
    await tid('paper-reproduce').click();
    await expect.poll(() => tid('reproduce-modal').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => tid('reproduce-modal').count()).toBe(0);

    await at(`#/compare?runs=${fifty.slice(0, 3).join(',')}`);
    await expect.poll(() => tid('view-save').isEnabled(), { timeout: 30_000 }).toBe(true);
    await tid('view-save').click();
    await tid('view-name').fill('half typed');
    await page.keyboard.press('Escape');
    await expect.poll(() => tid('view-name').count()).toBe(0);
    expect(await service!['views.list']()).toEqual([]);

    // the Runs table's delete confirmation: Esc is "no"
    await at('#/runs?q=nav-one');
    await expect.poll(() => page.locator('[data-testid="run-row"]').count(), { timeout: 20_000 }).toBe(1);
    await page.locator('[data-testid="run-row"]').first().click();
    await tid('runs-delete').click();
    await expect.poll(() => tid('confirm-delete').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => tid('confirm-delete').count()).toBe(0);
    expect((await service!['runs.list']({ sweepId: oneId })).total).toBe(1);
  }, 60_000);

  it('the activation preview reads σ(x) and σ′(x) under the cursor', async () => {
    await tid('nav-designer').click();
    const canvas = tid('activation-canvas');
    await expect.poll(() => canvas.isVisible(), { timeout: 15_000 }).toBe(true);
    const box = (await canvas.boundingBox())!;
    const read = async () => {
      const t = (await tid('activation-readout').textContent()) ?? '';
      const n = (re: RegExp) => Number((re.exec(t)?.[1] ?? 'NaN').replace('−', '-'));
      return { x: n(/x = (\S+?)σ/), s: n(/σ\(x\) = (\S+?)σ′/), d: n(/σ′\(x\) = ([-−\d.e]+)/), text: t };
    };
    // the middle of the plot (x ≈ 0 on [−5, 5]): identity init, σ(x) = x and σ′(x) = 1 inside [l,u]
    await page.mouse.move(box.x + 38 + (box.width - 48) * 0.45, box.y + 60);
    await expect.poll(async () => (await read()).text, { timeout: 10_000 }).toMatch(/σ′\(x\)/);
    const mid = await read();
    expect(Math.abs(mid.x)).toBeLessThan(5);
    expect(mid.s).toBeCloseTo(mid.x, 2);
    expect(mid.d).toBeCloseTo(1, 3);
    await shot('4-activation-readout');
    // near the left edge: outside [l,u], clamped, σ′ = 0
    await page.mouse.move(box.x + 40, box.y + 60);
    await expect.poll(async () => (await read()).text).toMatch(/outside \[l,u\]/);
    expect((await read()).d).toBe(0);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height + 80);
    await expect.poll(() => tid('activation-readout').count()).toBe(0);
  });

  it('Compare with 50 runs: the chips stay in one folded band, and no two runs share a colour', async () => {
    await at(`#/compare?runs=${fifty.join(',')}`);
    await expect.poll(() => page.locator('.chips .chip').count(), { timeout: 30_000 }).toBe(fifty.length); // 40 after the delete above
    const chips = (await page.locator('.chips').boundingBox())!;
    expect(chips.y).toBeGreaterThan(40); // on the first screen, below the header
    expect(chips.height).toBeGreaterThan(40); // two rows of chips shown (a folded block must not collapse to nothing)
    expect(chips.height).toBeLessThan(110); // folded: two rows and the "all N runs" button
    expect(chips.y + chips.height).toBeLessThan(900 * 0.3);
    await expect.poll(() => tid('chips-toggle').isVisible()).toBe(true);
    const colors = await page
      .locator('.chips .chip i')
      .evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    expect(new Set(colors).size).toBe(fifty.length);
    await page.waitForFunction(() => document.querySelectorAll('.charts canvas').length >= 2, undefined, {
      timeout: 30_000,
    });
    await shot('5-compare-many-runs');
    await tid('chips-toggle').click();
    expect((await page.locator('.chips').boundingBox())!.height).toBeGreaterThan(110);
    await tid('chips-toggle').click();
    expect(consoleErrors.filter((e) => !/401|Unauthorized/.test(e))).toEqual([]);
  }, 90_000);

  it('deepbern report groups seeds by default; --group-by none and a bad field are handled', async () => {
    await service!.close();
    service = null;
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin/deepbern.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
    const out = join(dir, 'r.html');
    const ok = cli(['report', seedsId, '--db', dbPath, '--out', out]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toContain('Across seeds — 2 groups of 4 runs');
    const flat = cli(['report', seedsId, '--db', dbPath, '--out', out, '--group-by', 'none']);
    expect(flat.status, flat.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).not.toContain('Across seeds');
    const bad = cli(['report', seedsId, '--db', dbPath, '--out', out, '--group-by', 'activation,seedz']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--group-by: unknown field seedz/);
    const badBand = cli(['report', seedsId, '--db', dbPath, '--out', out, '--band', 'iqr']);
    expect(badBand.stderr).toMatch(/--band must be one of minmax, sd/);
  }, 200_000);
});
