// End to end for issue 15 in real Chromium (web mode, real service, real worker pool): the Paper screen opened
// before any sweep fills in live; undo/redo in the Designer; 2 designs × 2 seeds grouped into mean + band in
// Compare; a saved view reopened from its URL. Screenshots go to test-results/e2e-i15-*.png.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './support/browser.js';
import { startWebWorkbench, stopWebWorkbench } from './support/e2e-workbench.js';
import { WorkbenchService } from '../src-main/service/workbench-service.js';
import { type WebServer } from '../src-main/transports/http.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results');
const SWEEP = `name: seeds-e2e
dataset: synthetic-higgs
rows: 400
seeds: 2
base: {depth: 2, width: 8, epochs: 4, batchSize: 64, evalBatch: 64, lr: 0.01}
parameters:
  activation: {values: [bernstein, relu]}
`;

let dir: string;
let service: WorkbenchService;
let web: WebServer;
let context: BrowserContext;
let page: Page;
let consoleErrors: string[] = [];
let sweepId = '';

beforeAll(async () => {
  ({ dir, service, web } = await startWebWorkbench('deepbern-e2e-i15-'));
  await mkdir(SHOTS, { recursive: true });
  ({ context, page, consoleErrors } = await launchBrowser(dir));
}, 240_000);

afterAll(() => stopWebWorkbench({ context, web, service, dir }));

const tid = (id: string) => page.getByTestId(id);
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `e2e-i15-${name}.png`), fullPage: false });
const mod = process.platform === 'darwin' ? 'Meta' : 'Control';

describe('issue 15 in Chromium (web mode)', () => {
  it('without the token the address shows how to open the app', async () => {
    await page.goto(web.url);
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toMatch(/needs its session link/);
    await shot('0-login');
  });

  it('Paper figures opened before any sweep: an empty state', async () => {
    await page.goto(web.openUrl);
    await expect.poll(() => tid('nav-paper').isVisible(), { timeout: 30_000 }).toBe(true);
    await tid('nav-paper').click();
    await expect.poll(() => tid('paper-empty').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await tid('paper-download').isDisabled()).toBe(true);
    await shot('1-paper-empty');
  });

  it('Designer: Ctrl+Z brings a deleted block back (also from the name field), Shift+Ctrl+Z removes it again', async () => {
    await tid('nav-designer').click();
    const blocks = () =>
      page.locator('[data-testid^="stack-block-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    const before = await blocks();
    expect(before).toContain('batchnorm');
    await tid('remove-0-1').click();
    await expect.poll(blocks).not.toContain('batchnorm');
    await tid('design-name').click();
    await page.keyboard.press(`${mod}+z`);
    await expect.poll(blocks).toEqual(before);
    expect(await tid('design-name').inputValue()).toBe('Bern 100×20');
    await shot('2-designer-undo');
    await page.keyboard.press(`${mod}+Shift+z`);
    await expect.poll(blocks).not.toContain('batchnorm');
    await shot('3-designer-redo');
    await tid('design-undo').click();
    await expect.poll(blocks).toEqual(before);
  });

  it('a sweep launched elsewhere fills the Paper screen live, without a reload', async () => {
    await tid('nav-paper').click();
    await expect.poll(() => tid('paper-empty').isVisible(), { timeout: 15_000 }).toBe(true);
    sweepId = (await service['sweeps.launch'](SWEEP)).id; // as the CLI or another window would
    await expect.poll(() => tid('paper-final-table').isVisible(), { timeout: 120_000 }).toBe(true);
    expect(await tid('paper-sweep').inputValue()).toBe(sweepId);
    // wait for the sweep to finish (4 tiny runs), then the screen shows them all, still without a reload
    await expect
      .poll(async () => (await service['sweeps.get'](sweepId)).status, { timeout: 300_000, interval: 500 })
      .toBe('finished');
    await expect.poll(() => page.locator('[data-testid="final-row"]').count(), { timeout: 30_000 }).toBe(4);
    await expect.poll(() => tid('paper-download').isDisabled(), { timeout: 15_000 }).toBe(false);
    // the sweep's own state follows too
    await expect
      .poll(() => page.locator('[data-testid="paper-sweep"] option:checked').textContent(), { timeout: 20_000 })
      .toMatch(/finished/);
    await shot('4-paper-filled-live');
  }, 400_000);

  it('Compare groups 2 designs × 2 seeds into mean + band; the view is saved and reopens from its URL', async () => {
    const { rows } = await service['runs.list']({ sweepId, limit: 10 });
    expect(rows).toHaveLength(4);
    await tid('nav-runs').click();
    await expect
      .poll(() => page.locator('[data-testid="run-row"]').count(), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(4);
    await page.locator('[data-testid="run-row"]').nth(0).click();
    await page
      .locator('[data-testid="run-row"]')
      .nth(3)
      .click({ modifiers: ['Shift'] });
    await tid('runs-compare').click();
    await tid('nav-compare').click();
    await tid('group-seeds').check();
    await expect.poll(() => tid('group-count').textContent(), { timeout: 15_000 }).toMatch(/2 groups of 4 runs/);
    await expect
      .poll(
        async () =>
          (
            await page
              .locator('[data-testid="legend-train_loss"] button .lbltext')
              .evaluateAll((els) => els.map((e) => e.getAttribute('data-label')))
          ).sort(),
        { timeout: 20_000 },
      )
      .toEqual(['Bern_{9,0.01}[-5,5] (2 runs)', 'ReLU (2 runs)']);
    // read with real subscripts: Bern, "9,0.01" lowered, a real minus
    expect((await page.locator('[data-testid="legend-train_loss"] button').allTextContents()).sort()).toEqual([
      'Bern9,0.01[−5,5] (2 runs)',
      'ReLU (2 runs)',
    ]);
    expect(await page.locator('[data-testid="legend-train_loss"] sub').first().textContent()).toBe('9,0.01');
    await tid('group-band').selectOption('minmax');
    await page.waitForFunction(() => document.querySelectorAll('.charts canvas').length >= 2, undefined, {
      timeout: 30_000,
    });
    expect(page.url()).toMatch(/#\/compare\?runs=.*&group=1&by=.*&band=minmax/);
    await shot('5-compare-grouped-seeds');

    await tid('view-save').click();
    await tid('view-name').fill('seeds by design');
    await tid('view-save-confirm').click();
    await expect
      .poll(async () => (await service['views.list']()).map((v) => v.name), { timeout: 10_000 })
      .toEqual(['seeds by design']);
    const link = page.url();

    // change everything, then open the saved link in a fresh load
    await tid('group-seeds').uncheck();
    await tid('nav-runs').click();
    await page.goto(link);
    await expect.poll(() => tid('group-seeds').isChecked(), { timeout: 15_000 }).toBe(true);
    await page.reload();
    await expect.poll(() => tid('group-count').textContent(), { timeout: 30_000 }).toMatch(/2 groups of 4 runs/);
    expect(await tid('group-seeds').isChecked()).toBe(true);
    await page.waitForFunction(() => document.querySelectorAll('.charts canvas').length >= 2, undefined, {
      timeout: 30_000,
    });
    await shot('6-saved-view-from-url');

    // and by name from the list
    await tid('group-seeds').uncheck();
    await tid('views-open').selectOption('seeds by design');
    await expect.poll(() => tid('group-seeds').isChecked(), { timeout: 10_000 }).toBe(true);
    expect(consoleErrors.filter((e) => !/401|Unauthorized/.test(e))).toEqual([]);
  }, 200_000);
});
