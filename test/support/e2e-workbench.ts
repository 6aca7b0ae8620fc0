// The end-to-end suites' workbench: a temp folder, a private renderer build, the service on a real SQLite file in
// web mode with a real pool, and its HTTP+WebSocket server; and the teardown of all of it with the browser.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { WorkbenchService } from '../../src-main/service/workbench-service.js';
import { startWebServer, type WebServer } from '../../src-main/transports/http.js';
import { buildRendererSite } from './browser.js';

export interface WebWorkbench {
  dir: string;
  dbPath: string;
  service: WorkbenchService;
  web: WebServer;
}

export async function startWebWorkbench(prefix: string): Promise<WebWorkbench> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const site = buildRendererSite(dir);
  const dbPath = join(dir, 'w.db');
  const service = await WorkbenchService.start({ dbPath, transport: 'web', workers: 2, backend: 'wasm' });
  const web = await startWebServer({ service, staticDir: site });
  return { dir, dbPath, service, web };
}

/** Closes what a (possibly half-done) beforeAll opened, browser first, and removes the folder. */
export async function stopWebWorkbench(parts: {
  context?: BrowserContext | null;
  web?: WebServer | null;
  service?: WorkbenchService | null;
  dir?: string | null;
}): Promise<void> {
  await parts.context?.close();
  await parts.web?.close();
  await parts.service?.close();
  if (parts.dir) await rm(parts.dir, { recursive: true, force: true });
}
