// End to end in a real browser: the renderer build served by web mode (real service, fresh SQLite file, real
// worker pool), driven in Debian Chromium through playwright-core. Design a Bernstein stack by drag and drop,
// save it, launch a 2-run sweep, watch it finish live, compare the runs. Screenshots go to test-results/.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './support/browser.js';
import { startWebWorkbench, stopWebWorkbench } from './support/e2e-workbench.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkbenchService } from '../src-main/service/workbench-service.js';
import { type WebServer } from '../src-main/transports/http.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results');

let dir: string;
let service: WorkbenchService;
let web: WebServer;
let context: BrowserContext;
let page: Page;
let consoleErrors: string[] = [];

beforeAll(async () => {
  ({ dir, service, web } = await startWebWorkbench('deepbern-e2e-'));
  await mkdir(SHOTS, { recursive: true });
  ({ context, page, consoleErrors } = await launchBrowser(dir));
}, 240_000);

afterAll(() => stopWebWorkbench({ context, web, service, dir }));

const tid = (id: string) => page.getByTestId(id);
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `e2e-${name}.png`), fullPage: false });

describe('the workbench in Chromium (web mode)', () => {
  it('opens with the token link, then drops the token from the address bar', async () => {
    await page.goto(web.openUrl);
    await expect.poll(() => tid('nav-designer').isVisible(), { timeout: 30_000 }).toBe(true);
    expect(page.url()).not.toContain('token=');
    await expect.poll(async () => (await tid('status-bar').textContent()) ?? '', { timeout: 15_000 }).toMatch(/wasm/);
  });

  it('builds a Bernstein stack by drag and drop and saves it', async () => {
    await tid('nav-designer').click();
    // Start from an empty stack: remove the starter blocks.
    while ((await page.locator('[data-testid^="remove-"]').count()) > 0)
      await page.locator('[data-testid^="remove-"]').first().click();
    await expect.poll(() => page.locator('[data-testid^="stack-block-"]').count()).toBe(0);

    await tid('palette-repeat').dragTo(tid('stack-end'));
    await expect.poll(() => tid('stack-block-0').getAttribute('data-kind')).toBe('repeat');
    for (const kind of ['dense', 'batchnorm', 'bernstein']) await tid(`palette-${kind}`).dragTo(tid('group-drop-0'));
    await tid('palette-dense').dragTo(tid('stack-end'));
    const kinds = await page
      .locator('[data-testid^="stack-block-"]')
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-testid')}:${e.getAttribute('data-kind')}`));
    expect(kinds).toEqual([
      'stack-block-0:repeat',
      'stack-block-0-0:dense',
      'stack-block-0-1:batchnorm',
      'stack-block-0-2:bernstein',
      'stack-block-1:dense',
    ]);

    // Tiny: depth 2, width 8, 2 classes out; 300 rows, 2 epochs.
    await page.locator('[data-testid="stack-block-0"] > .head').click();
    await tid('prop-times').fill('2');
    await page.locator('[data-testid="stack-block-0-0"] > .head').click();
    await tid('prop-width').fill('8');
    await page.locator('[data-testid="stack-block-1"] > .head').click();
    await tid('prop-width').fill('2');
    await tid('train-dataset').selectOption('synthetic-higgs');
    await tid('train-epochs').fill('2');
    await tid('train-rows').fill('300');
    await expect.poll(() => tid('design-valid').isVisible()).toBe(true);
    await tid('design-name').fill('e2e bern 8x2');
    await shot('1-designer');
    await tid('design-save').click();
    await expect.poll(async () => (await tid('design-list').textContent()) ?? '').toContain('e2e bern 8x2');
    const saved = await service['designs.list']();
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({
      name: 'e2e bern 8x2',
      training: { dataset: 'synthetic-higgs', epochs: 2, rows: 300 },
    });
    expect(saved[0]!.blocks[0]).toMatchObject({
      kind: 'repeat',
      times: 2,
      blocks: [{ kind: 'dense', width: 8 }, { kind: 'batchnorm' }, { kind: 'bernstein' }],
    });
  });

  it('launches a 2-run sweep from the design and watches both runs finish live', async () => {
    await tid('design-train').click();
    await expect.poll(() => tid('sweep-launch').isVisible()).toBe(true);
    await tid('axis-values-0').fill('bernstein, relu');
    await expect.poll(async () => (await tid('run-count').textContent())?.trim()).toBe('2');
    await expect.poll(() => tid('server-ok').isVisible(), { timeout: 15_000 }).toBe(true);
    await shot('2-sweep');
    await tid('sweep-launch').click();
    await expect.poll(() => tid('runs-table').isVisible()).toBe(true);
    await expect.poll(() => page.locator('[data-testid="run-row"]').count(), { timeout: 30_000 }).toBe(2);
    // No reload: the table follows run-status/run-epoch events over the WebSocket.
    await expect
      .poll(() => page.locator('[data-testid="run-row"] .badge.st-finished').count(), {
        timeout: 150_000,
        interval: 500,
      })
      .toBe(2);
    await expect
      .poll(async () => (await page.locator('[data-testid="run-row"]').allTextContents()).join(' '))
      .toMatch(/2\/2[\s\S]*2\/2/);
    await shot('3-runs-finished');
    const { rows } = await service['runs.list']({});
    expect(rows.map((r) => r.status)).toEqual(['finished', 'finished']);
    expect(rows.map((r) => r.activation).sort()).toEqual(['bernstein', 'relu']);
  });

  it('compares the runs: curves and the per-layer chart render', async () => {
    await page.locator('[data-testid="runs-table"] .ck input[type="checkbox"]').first().check();
    await tid('runs-compare').click();
    await expect.poll(() => tid('param-table').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    // Metric curves (uPlot draws on canvas).
    await expect.poll(() => page.locator('.mchart canvas').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('.mchart .overlay').count())
      .toBeLessThan(await page.locator('.mchart').count());
    await shot('4-compare-curves');
    // The per-layer profile (lazy: it renders when scrolled into view).
    await page.locator('.mchart').first().hover();
    await expect
      .poll(
        async () => {
          await page.mouse.wheel(0, 600);
          return tid('profile-metric').count();
        },
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0);
    const profile = page.locator('.panel', { has: tid('profile-metric') });
    await profile.scrollIntoViewIfNeeded();
    await tid('profile-metric').selectOption('min_dsigma');
    await expect.poll(() => profile.locator('canvas').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => profile.locator('.overlay').count(), { timeout: 15_000 }).toBe(0);
    await shot('5-compare-layers');
  });

  it('no console errors (CSP violations included) along the way', () => {
    expect(consoleErrors).toEqual([]);
  });
});
