// Worker-thread side of off-thread sweep planning (plan-thread.ts): parse and expand one sweep file, post the
// plan or the user's errors back. A YAML file of 2 MiB takes seconds to parse: here, not on the server's loop.
import { parentPort, workerData } from 'node:worker_threads';
import { parseSweepText, planSweep, SweepError } from '../../shared/sweep.js';

export type PlanReply = { ok: true; plan: ReturnType<typeof planSweep> } | { ok: false; issues: string[] } | { ok: false; crash: string };

function reply(): PlanReply {
  try {
    return { ok: true, plan: planSweep(parseSweepText(workerData as string)) };
  } catch (e) {
    if (e instanceof SweepError) return { ok: false, issues: e.issues };
    return { ok: false, crash: e instanceof Error ? e.message : String(e) };
  }
}

parentPort?.postMessage(reply());
