// End to end in Chromium (web mode, real service, real worker pool): a small paper-style sweep finishes, the
// Paper screen shows its figures, final table and certificates; a run's drawer shows the gradient certificate;
// the report HTML downloads; a tiny approximation lab runs from the Approximation lab form; Settings shows a
// clear error for an unreachable Redis. Screenshots go to test-results/e2e-paper-*.png.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './support/browser.js';
import { startWebWorkbench, stopWebWorkbench } from './support/e2e-workbench.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../shared/api.js';
import { WorkbenchService } from '../src-main/service/workbench-service.js';
import { type WebServer } from '../src-main/transports/http.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results');

const LABELS = [
  'Bern_{9,0.01}[-5,5]',
  'Bern_{9,0.01}adaptive',
  'ReLU',
  'ReLU_res',
  'SELU',
  'SELU_BN',
  'GELU',
  'LReLU_0.01',
];
const SWEEP = `name: paper-e2e
dataset: synthetic-higgs
rows: 768
base: {depth: 8, width: 16, epochs: 5, batchSize: 128, evalBatch: 128, lr: 0.003}
parameters:
  variant:
    values:
      - {activation: bernstein, degree: 9, eps: 0.01, bounds: [-5, 5]}
      - {activation: bernstein, degree: 9, eps: 0.01, boundsMode: adaptive}
      - {activation: relu}
      - {activation: relu, residual: true}
      - {activation: selu}
      - {activation: selu, batchNorm: true}
      - {activation: gelu}
      - {activation: leaky_relu, alpha: 0.01}
metric: {name: test_acc, goal: maximize}
`;

// The initialisation figure's sweep, tiny: ReLU, ReLU_res and Bern under torch vs he_normal.
const INIT_SWEEP = `name: paper-e2e-init
dataset: synthetic-higgs
rows: 384
base: {depth: 8, width: 16, epochs: 2, batchSize: 128, evalBatch: 128, lr: 0.003}
parameters:
  init: {values: [torch, he_normal]}
  variant:
    values:
      - {activation: relu}
      - {activation: relu, residual: true}
      - {activation: bernstein, degree: 9, eps: 0.01, bounds: [-5, 5], bnAffine: true}
`;

let dir: string;
let service: WorkbenchService;
let web: WebServer;
let context: BrowserContext;
let page: Page;
let sweepId = '';
let initSweepId = '';
let consoleErrors: string[] = [];

beforeAll(async () => {
  ({ dir, service, web } = await startWebWorkbench('deepbern-e2e-paper-'));
  // The sweep runs to the end before the browser opens: the Paper screen is judged on a finished sweep.
  const ended = new Set<string>();
  const done = new Promise<void>((resolve) => {
    const off = service.onEvent((e: WorkbenchEvent) => {
      if (e.type === 'sweep-status' && e.status !== 'running') ended.add(e.sweepId);
      if (sweepId && initSweepId && ended.has(sweepId) && ended.has(initSweepId)) {
        off();
        resolve();
      }
    });
  });
  sweepId = (await service['sweeps.launch'](SWEEP)).id;
  initSweepId = (await service['sweeps.launch'](INIT_SWEEP)).id;
  await done;
  await mkdir(SHOTS, { recursive: true });
  ({ context, page, consoleErrors } = await launchBrowser(dir, { acceptDownloads: true }));
}, 600_000);

afterAll(() => stopWebWorkbench({ context, web, service, dir }));

const tid = (id: string) => page.getByTestId(id);
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `e2e-paper-${name}.png`), fullPage: false });

describe('the Paper screen in Chromium (web mode)', () => {
  it('the sweeps finished', async () => {
    const s = await service['sweeps.get'](sweepId);
    expect(s.status).toBe('finished');
    expect(s.counts.finished).toBe(LABELS.length);
    expect((await service['sweeps.get'](initSweepId)).counts.finished).toBe(6);
  });

  it('shows the finished sweep: data source, legend, every figure drawn, the final table and certificates', async () => {
    await page.goto(web.openUrl);
    await expect.poll(() => tid('nav-paper').isVisible(), { timeout: 30_000 }).toBe(true);
    await tid('nav-paper').click();
    await expect.poll(() => tid('paper-source').isVisible(), { timeout: 30_000 }).toBe(true);
    await tid('paper-sweep').selectOption(sweepId); // two sweeps in the store: judge the figure pack's
    await expect.poll(() => page.locator('[data-testid="final-row"]').count(), { timeout: 30_000 }).toBe(LABELS.length);
    expect(await tid('paper-source').textContent()).toMatch(/synthetic-higgs/);
    // chips render labels with real subscripts; the plain label is their data-label
    const chipLabels = await page
      .locator('[data-testid="paper-legend"] .chip .lbltext')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
    expect(chipLabels).toEqual(expect.arrayContaining(LABELS));
    // figure 1 (three layers), 2, 3, 4: each a uPlot canvas, no "no values" overlay
    for (const f of ['1·L1', '1·L4', '1·L8', '2', '3', '4']) {
      const fig = tid(`figure-${f}`);
      await expect.poll(() => fig.locator('canvas').count(), { timeout: 20_000 }).toBeGreaterThan(0);
      expect(await fig.locator('.overlay').count()).toBe(0);
    }
    expect(await tid('figure-3').getByTestId('series-count').textContent()).toBe(`${LABELS.length} series`);
    expect(await page.locator('[data-testid="final-row"]').count()).toBe(LABELS.length);
    expect(await page.locator('[data-testid="paper-certs"] tbody tr').count()).toBe(2);
    expect(await tid('paper-cert-violation').count()).toBe(0);
    expect(await page.locator('.ours').count()).toBeGreaterThan(5);
    await page.mouse.move(0, 0);
    await shot('1-figures');
    await page.locator('.page.paper .page-body').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await shot('2-table');
  });

  it('opens a Bernstein run from the final table: spec, final metrics and the gradient certificate', async () => {
    await page.locator('[data-testid="final-row"]', { hasText: 'Bern_{9,0.01}[-5,5]' }).click();
    await expect.poll(() => tid('run-drawer').isVisible()).toBe(true);
    await expect.poll(() => tid('certificate').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await tid('cert-ok').textContent()).toMatch(/Certificate holds/);
    expect(await page.locator('[data-testid="cert-table"] tbody tr').count()).toBe(8);
    expect(await tid('drawer-spec').textContent()).toMatch(/degree\s*9/);
    await shot('3-run-drawer');
    await tid('drawer-close').click();
    await expect.poll(() => tid('run-drawer').count()).toBe(0);
  });

  it('downloads the self-contained report HTML', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), tid('paper-download').click()]);
    expect(download.suggestedFilename()).toBe('paper-e2e-report.html');
    const html = await readFile((await download.path())!, 'utf8');
    expect(html).toMatch(/<svg/);
    expect(html).toContain('Gradient certificate');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  });

  it('the dead ratio defaults to the epoch average; picking the eval-batch reading relabels figure 3 and the table', async () => {
    expect(await tid('figure-3').textContent()).toMatch(/dead-neuron ratio vs layer · epoch avg/);
    expect(await tid('paper-final-table').locator('thead').textContent()).toMatch(/dead \(all\) · epoch avg/);
    await tid('paper-dead-reading').selectOption({ label: 'fixed evaluation batch, eval mode (depends on evalBatch)' });
    await expect.poll(() => tid('figure-3').textContent()).toMatch(/dead-neuron ratio vs layer · eval batch/);
    expect(await tid('paper-final-table').locator('thead').textContent()).toMatch(/dead \(all\) · eval batch/);
    expect(await tid('figure-3').getByTestId('series-count').textContent()).toBe(`${LABELS.length} series`);
    await tid('paper-dead-reading').selectOption({ index: 0 });
    await expect.poll(() => tid('figure-3').textContent()).toMatch(/epoch avg/);
  });

  it('a sweep over init schemes shows the initialisation figure: a panel per scheme and the accuracy table', async () => {
    await tid('paper-sweep').selectOption(initSweepId);
    await expect.poll(() => tid('paper-init-figure').isVisible(), { timeout: 30_000 }).toBe(true);
    expect(
      await page
        .getByText('Initialisation — dead ratio vs layer and final test accuracy under torch vs he_normal')
        .count(),
    ).toBe(1);
    for (const init of ['torch', 'he_normal']) {
      const fig = tid(`figure-I·${init}`);
      await expect.poll(() => fig.locator('canvas').count(), { timeout: 20_000 }).toBeGreaterThan(0);
      expect(await fig.locator('.overlay').count()).toBe(0);
      expect(await fig.getByTestId('series-count').textContent()).toBe('3 series');
    }
    const rows = page.locator('[data-testid="paper-init-table"] tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.allTextContents()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ReLU\s*\d/),
        expect.stringMatching(/^ReLU_res/),
        expect.stringMatching(/^Bern_\{9,0\.01\}\[-5,5\]/),
      ]),
    );
    expect(await page.locator('[data-testid="init-cell"]').count()).toBe(6);
    expect(await page.locator('[data-testid="final-row"]').count()).toBe(6);
    await page.mouse.move(0, 0);
    await tid('paper-init-figure').scrollIntoViewIfNeeded();
    await shot('3b-init-figure');
    await tid('paper-sweep').selectOption(sweepId);
    await expect.poll(() => tid('paper-init-figure').count(), { timeout: 30_000 }).toBe(0);
  });

  it('offers the examples/paper files to reproduce, with their planned run count', async () => {
    await tid('paper-reproduce').click();
    await expect.poll(() => tid('reproduce-plan').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await tid('reproduce-modal').textContent()).toMatch(
      /higgs-laptop\.yaml[\s\S]*init-depth50-laptop\.yaml[\s\S]*mnist-laptop\.yaml/,
    );
    expect(await tid('reproduce-plan').textContent()).toMatch(/^16 runs/);
    await shot('4-reproduce');
    await page.keyboard.press('Escape'); // the app's one Esc stack closes the modal
    await expect.poll(() => tid('reproduce-modal').count(), { timeout: 5_000 }).toBe(0);
  });

  it('runs a tiny approximation lab from the form and charts it with its verdict', async () => {
    await tid('nav-approx').click();
    await expect.poll(() => tid('approx-empty').isVisible(), { timeout: 15_000 }).toBe(true);
    await tid('lab-depths').fill('1..3');
    await tid('lab-degrees').fill('3');
    await tid('lab-steps').fill('150');
    await tid('lab-launch').click();
    await expect.poll(() => tid('approx-panel-fn:smooth').isVisible(), { timeout: 240_000, interval: 1000 }).toBe(true);
    await expect
      .poll(() => tid('approx-panel-fn:smooth').locator('canvas').count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await page.locator('[data-testid="approx-verdict"]').count()).toBe(1);
    expect(await page.locator('[data-testid="approx-verdict"]').textContent()).toMatch(
      /limited by (optimisation|architecture floor|float32 precision|undetermined)|limits differ by depth/,
    );
    // one sentence per (target, depth, degree): who won, and whether optimisation or the floor limits it
    expect(await page.locator('[data-testid="approx-cell"]').count()).toBe(3);
    expect(await page.locator('[data-testid="approx-cell"]').first().textContent()).toMatch(
      /(Bernstein won|ReLU won|tie).*(limits it|precision)/,
    );
    expect(await tid('approx-formula').first().textContent()).toContain('exp(sin(πx))');
    expect(await tid('approx-summary').textContent()).toMatch(/Verdict uses the validation-selected report point/);
    await page.mouse.move(0, 0);
    await shot('5-approx-lab');
  });

  it('Settings → Remote workers: an unreachable Redis is a clear error, the password is never shown', async () => {
    await tid('nav-settings').click();
    await tid('settings-redis-url').fill('redis://:s3cret-pw@127.0.0.1:1');
    await tid('settings-save').click();
    await expect.poll(() => tid('remote-error').isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await tid('remote-error').textContent()).toMatch(
      /Redis unreachable[\s\S]*127\.0\.0\.1:1[\s\S]*connection refused/,
    );
    expect(await tid('settings-redis-url').inputValue()).toBe('redis://:***@127.0.0.1:1');
    expect(await page.content()).not.toContain('s3cret-pw');
    await shot('6-settings');
  });

  it('no console errors along the way', () => {
    expect(consoleErrors).toEqual([]);
  });
});
