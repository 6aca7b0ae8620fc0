// The approximation lab's worker pool: one fit per Piscina thread (workers/approx/pool-fit.ts). Report points
// come back over a MessagePort; each is acknowledged only after the caller has handled (stored) it, so when a
// fit's promise resolves every report point of it has been handled, in order. The test grid never crosses
// this boundary: the caller scores the returned checkpoints on it afterwards.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { FitOutcome, FitReport } from '../../workers/approx/fit.js';
import type { ApproxFitJob, ApproxFitTaskResult, FitMainToTask, FitTaskToMain } from '../../workers/approx/pool-fit.js';

/** The compiled task module (under vitest this file runs from source, so point at the build). */
export function approxTaskFile(): string {
  const here = fileURLToPath(import.meta.url);
  const compiled = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/workers/approx/pool-fit.js', import.meta.url))
    : fileURLToPath(new URL('../../workers/approx/pool-fit.js', import.meta.url));
  if (!existsSync(compiled))
    throw new Error(`approximation-lab worker task not built: ${compiled} is missing (run npm run build)`);
  return compiled;
}

export class ApproxFitPool {
  private readonly pool: Piscina;

  constructor(readonly capacity: number) {
    this.pool = new Piscina({
      filename: approxTaskFile(),
      minThreads: 0,
      maxThreads: capacity,
      idleTimeout: 30_000,
      concurrentTasksPerWorker: 1,
    });
  }

  async fit(job: ApproxFitJob, onReport: (r: FitReport) => Promise<void>): Promise<FitOutcome> {
    const { port1, port2 } = new MessageChannel();
    const send = (m: FitMainToTask) => port1.postMessage(m);
    let handling = Promise.resolve();
    port1.on('message', (m: FitTaskToMain) => {
      handling = handling.then(() =>
        onReport(m.report).then(
          () => send({ type: 'ack', index: m.report.index }),
          (e: unknown) => {
            send({ type: 'cancel' }); // storing failed: stop the fit rather than train on unsaved points
            throw e;
          },
        ),
      );
      handling.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    });
    try {
      const r = (await this.pool.run({ job, port: port2 }, { transferList: [port2] })) as ApproxFitTaskResult;
      await handling;
      return r;
    } catch (e) {
      await handling; // a storage error is the cause worth reporting
      throw e;
    } finally {
      port1.close();
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
