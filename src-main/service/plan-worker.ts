// Worker-thread side of off-thread sweep planning (plan-thread.ts): parse and expand sweep files, one message at
// a time, and post each plan or the user's errors back. A YAML file of 2 MiB takes seconds to parse: here, not on
// the server's loop. The thread stays up between plans (starting one costs ~0.3–2 s, which every edit in the
// sweep builder would pay).
import { parentPort } from 'node:worker_threads';
import { parseSweepText, planSweep, SweepError } from '../../shared/sweep.js';

export type PlanReply =
  { ok: true; plan: ReturnType<typeof planSweep> } | { ok: false; issues: string[] } | { ok: false; crash: string };

function reply(text: string): PlanReply {
  try {
    return { ok: true, plan: planSweep(parseSweepText(text)) };
  } catch (e) {
    if (e instanceof SweepError) return { ok: false, issues: e.issues };
    return { ok: false, crash: e instanceof Error ? e.message : String(e) };
  }
}

parentPort?.on('message', (text: string) => parentPort?.postMessage(reply(text)));
