// End to end in real Chromium (web mode, real service, real worker pool) for the Runs table and the run
// drawer (issue 15): the name column stays pinned while the table scrolls right and is wide enough for the
// names; the column chooser hides a column and remembers it across a reload; the drawer shows the run's own
// curves, a per-layer heatmap, the dataset by its title and a labelled certificate chart, and downloads the
// run's CSV and its model file. Screenshots go to test-results/e2e-runs-*.png.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './support/browser.js';
import { startWebWorkbench, stopWebWorkbench } from './support/e2e-workbench.js';
import { parseModelFile } from '../shared/model-file.js';
import { WorkbenchService } from '../src-main/service/workbench-service.js';
import { type WebServer } from '../src-main/transports/http.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results');
const LONG = 'a-rather-long-sweep-name-that-the-table-must-not-cut';
const SWEEP = `name: ${LONG}
dataset: synthetic-higgs
rows: 400
base: {depth: 3, width: 8, epochs: 3, batchSize: 64, evalBatch: 64, lr: 0.01}
parameters:
  activation: {values: [bernstein, relu]}
`;

let dir: string;
let service: WorkbenchService;
let web: WebServer;
let context: BrowserContext;
let page: Page;
let consoleErrors: string[] = [];
let bernId = '';

beforeAll(async () => {
  ({ dir, service, web } = await startWebWorkbench('deepbern-e2e-runs-'));
  await mkdir(SHOTS, { recursive: true });
  ({ context, page, consoleErrors } = await launchBrowser(dir, { acceptDownloads: true }));
  const sweep = await service['sweeps.launch'](SWEEP);
  for (const until = Date.now() + 300_000; (await service['sweeps.get'](sweep.id)).status !== 'finished';) {
    if (Date.now() > until) throw new Error('the sweep did not finish in 300 s');
    await new Promise((r) => setTimeout(r, 500));
  }
  const { rows } = await service['runs.list']({ sweepId: sweep.id });
  bernId = rows.find((r) => r.activation === 'bernstein')!.id;
}, 420_000);

afterAll(() => stopWebWorkbench({ context, web, service, dir }));

const tid = (id: string) => page.getByTestId(id);
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `e2e-runs-${name}.png`), fullPage: false });
const nameCell = (i: number) => page.locator('[data-testid="run-row"]').nth(i).locator('[data-col="name"]');
const headers = () =>
  page.locator('[data-testid="runs-table"] .th').evaluateAll((els) => els.map((e) => e.getAttribute('data-col')));

describe('the Runs table and the run drawer in Chromium (web mode)', () => {
  it('the name column is first, wide enough for the names, and stays pinned while the table scrolls right', async () => {
    await page.setViewportSize({ width: 1000, height: 800 }); // narrower than the table: it scrolls sideways
    await page.goto(web.openUrl + '#/runs');
    await expect.poll(() => page.locator('[data-testid="run-row"]').count(), { timeout: 30_000 }).toBe(2);
    expect((await headers())[0]).toBe('name');
    // not cut: the whole name fits its cell (and the tooltip has it with the id)
    const fit = await nameCell(0)
      .locator('.ellipsis')
      .evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, title: el.getAttribute('title') }));
    expect(fit.scroll).toBeLessThanOrEqual(fit.client);
    expect(fit.title).toMatch(new RegExp(`^${LONG}.* \\(r`));
    const before = await nameCell(0).boundingBox();
    const status = page.locator('[data-testid="run-row"]').nth(0).locator('[data-col="status"]');
    const statusBefore = await status.boundingBox();
    const scrolled = await tid('runs-table').evaluate((el) => {
      el.scrollLeft = 600;
      return el.scrollLeft;
    });
    expect(scrolled).toBeGreaterThan(300);
    await expect
      .poll(async () => (await status.boundingBox())!.x, { timeout: 5_000 })
      .toBeLessThan(statusBefore!.x - 300); // the rest moved left…
    expect((await nameCell(0).boundingBox())!.x).toBeCloseTo(before!.x, 0); // …the name did not
    const header = page.locator('[data-testid="runs-table"] .th[data-col="name"]');
    expect((await header.boundingBox())!.x).toBeCloseTo(before!.x, 0);
    // nothing shows through the pinned cell: it is opaque
    expect(await nameCell(0).evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe('rgba(0, 0, 0, 0)');
    await shot('1-pinned-name');
    await tid('runs-table').evaluate((el) => (el.scrollLeft = 0));
  });

  it('the column chooser hides a column, and the choice survives a reload', async () => {
    expect(await headers()).toContain('backend');
    await tid('runs-columns').click();
    await tid('runs-column-backend').uncheck();
    await tid('runs-column-createdAt').uncheck();
    await expect.poll(headers).not.toContain('backend');
    expect(await headers()).not.toContain('createdAt');
    expect(await page.locator('[data-testid="run-row"] [data-col="backend"]').count()).toBe(0);
    // the name column is not offered: it always shows
    expect(await tid('runs-column-name').count()).toBe(0);
    await shot('2-column-chooser');
    await page.keyboard.press('Escape');
    await expect.poll(() => tid('runs-columns-menu').count()).toBe(0);
    await page.reload();
    await expect.poll(() => page.locator('[data-testid="run-row"]').count(), { timeout: 30_000 }).toBe(2);
    expect(await headers()).not.toContain('backend');
    expect(await headers()).not.toContain('createdAt');
    expect(await headers()).toContain('test_acc');
    await tid('runs-columns').click();
    await tid('runs-columns-reset').click();
    await expect.poll(headers).toContain('backend');
    await page.keyboard.press('Escape');
  });

  it('the drawer: own curves, per-layer heatmap, dataset by title, labelled certificate chart', async () => {
    const row = page.locator('[data-testid="run-row"]', { hasText: 'Bern' });
    await row.dblclick();
    await expect.poll(() => tid('run-drawer').isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => tid('drawer-dataset').textContent(), { timeout: 10_000 }).toBe('Synthetic HIGGS');
    expect(await tid('drawer-spec').textContent()).toMatch(/dataset\s*Synthetic HIGGS \(synthetic-higgs\)/);
    // curves: loss and accuracy, 3 epochs each, drawn
    const loss = tid('run-curve-loss');
    await expect.poll(() => loss.getAttribute('data-points'), { timeout: 20_000 }).toBe('3');
    expect(await loss.getAttribute('data-series')).toBe('train loss,test loss');
    expect(await tid('run-curve-acc').getAttribute('data-points')).toBe('3');
    expect(await tid('run-curve-acc').getAttribute('data-series')).toContain('test acc');
    await expect.poll(() => loss.locator('canvas').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await loss.textContent()).toContain('Loss per epoch');
    // the heatmap: 3 layers × 3 epochs of dead ratio; switching to min |σ′| refetches
    const heat = tid('run-heatmap');
    await expect.poll(() => heat.getAttribute('data-cells'), { timeout: 20_000 }).toBe('3x3');
    await expect.poll(() => heat.locator('canvas').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await heat.textContent()).toContain('dead-neuron ratio (eval batch) per layer × epoch');
    await tid('run-heatmap-metric').selectOption('min_dsigma');
    await expect.poll(() => heat.getAttribute('data-metric')).toBe('min_dsigma');
    await expect.poll(() => heat.textContent()).toContain('min |σ′| (inside [l,u]) per layer × epoch');
    expect(await heat.getAttribute('data-cells')).toBe('3x3');
    // the certificate chart has a title and a legend naming its lines
    await expect
      .poll(() => tid('cert-chart-title').textContent(), { timeout: 20_000 })
      .toMatch(/per hidden layer at epoch 3/);
    expect(await tid('cert-chart').textContent()).toMatch(/observed min \|σ′\|[\s\S]*learned floor[\s\S]*δ̄/);
    await tid('cert-chart').scrollIntoViewIfNeeded();
    await shot('3-drawer');
  });

  it('the drawer downloads the run as CSV and its trained model as a model file', async () => {
    const [csvDl] = await Promise.all([
      page.waitForEvent('download', { timeout: 20_000 }),
      tid('drawer-export-csv').click(),
    ]);
    expect(csvDl.suggestedFilename()).toMatch(/\.csv$/);
    const csv = await readFile((await csvDl.path())!, 'utf8');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('run_id,epoch,layer,metric,value,run_name,label');
    expect(lines.slice(1).every((l) => l.startsWith(`${bernId},`))).toBe(true);
    expect(csv).toContain(`${bernId},3,,test_loss,`);
    const [modelDl] = await Promise.all([
      page.waitForEvent('download', { timeout: 20_000 }),
      tid('drawer-download-model').click(),
    ]);
    expect(modelDl.suggestedFilename()).toMatch(/\.model\.json$/);
    const text = await readFile((await modelDl.path())!, 'utf8');
    const model = parseModelFile(text, modelDl.suggestedFilename()); // the reader `deepbern predict --model` uses
    expect(model.inputDim).toBe(28);
    expect(consoleErrors).toEqual([]);
  });
});
