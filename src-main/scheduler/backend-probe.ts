// Which tfjs backend loads here, asked of a short-lived worker thread (workers/backend-probe.ts) instead of
// this process: the Electron main process must not load a native addon just to find out it cannot.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendInfo, BackendPref } from '../../workers/engine/backend.js';

function probeFile(): string {
  const here = fileURLToPath(import.meta.url);
  const compiled = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/workers/backend-probe.js', import.meta.url))
    : fileURLToPath(new URL('../../workers/backend-probe.js', import.meta.url));
  if (!existsSync(compiled)) throw new Error(`backend probe not built: ${compiled} is missing (run npm run build)`);
  return compiled;
}

export async function probeBackendInWorker(pref?: BackendPref): Promise<BackendInfo> {
  const worker = new Worker(probeFile(), { workerData: { pref } });
  try {
    return await new Promise<BackendInfo>((resolve, reject) => {
      worker.once('message', (m: { ok: true; info: BackendInfo } | { ok: false; error: string }) =>
        m.ok ? resolve(m.info) : reject(new Error(m.error)),
      );
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`the backend probe thread exited (code ${code}) before answering`)),
      );
    });
  } finally {
    await worker.terminate();
  }
}
