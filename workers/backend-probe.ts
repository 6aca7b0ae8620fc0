// A worker thread that initialises the tfjs backend once and reports what loaded. The desktop app probes here,
// never in its main process: a native addon (tfjs-node) built for another ABI must fail in a thread, not crash
// the window's process. The pool's own threads then initialise the same backend per run.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendPref } from './engine/backend.js';

const pref = (workerData as { pref?: BackendPref } | null)?.pref;
initBackend(pref).then(
  (info) => parentPort?.postMessage({ ok: true, info }),
  (e: unknown) => parentPort?.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) }),
);
