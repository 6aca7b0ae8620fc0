// A peer replica of a data-parallel run (rank ≥ 1), in its own worker thread with its own tfjs backend: builds
// the model from the run's current checkpoint, then runs the steps rank 0 posts until it posts stop.
import { parentPort, workerData } from 'node:worker_threads';
import type { NetworkSpec } from '../../../shared/spec.js';
import { initBackend, type BackendPref } from '../backend.js';
import { pickOps } from '../kernels/index.js';
import { DeepBernModel } from '../model.js';
import { loadState, tensorMap, type ModelDims } from '../state.js';
import { createTrainerOptimizer } from '../optimizer.js';
import { CMD_STEP_DEAD, CMD_STOP, GroupAborted, GroupMemory, type GroupBuffers } from './group-memory.js';
import { Replica } from './replica-step.js';

export interface ReplicaWorkerData {
  buffers: GroupBuffers;
  rank: number;
  spec: NetworkSpec;
  dims: ModelDims;
  state: Uint8Array;
  backend: BackendPref;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function main(): Promise<void> {
  const data = workerData as ReplicaWorkerData;
  const mem = new GroupMemory(data.buffers, data.rank);
  let model: DeepBernModel | undefined;
  try {
    const backend = await initBackend(data.backend);
    const ops = pickOps(backend.tfBackend);
    model = new DeepBernModel(data.spec, data.dims, ops);
    const optimizer = createTrainerOptimizer(data.spec, ops, model.trainables());
    const state = loadState(data.state);
    const byName = tensorMap(state);
    model.importTensors(byName);
    optimizer.importSlots(state.optimizer.step, byName);
    const replica = new Replica(mem, model, optimizer);
    parentPort?.postMessage({ type: 'ready' });
    const tally = { tau: data.spec.tau, counts: [] as number[], seconds: 0 };
    for (;;) {
      mem.barrier(true); // rank 0 posts the next command (it may be evaluating an epoch meanwhile)
      const cmd = mem.command;
      if (cmd === CMD_STOP) break;
      const t0 = performance.now();
      mem.beginStep();
      replica.step(cmd === CMD_STEP_DEAD ? tally : undefined);
      mem.endStep(performance.now() - t0);
    }
    optimizer.dispose();
    parentPort?.postMessage({ type: 'done' });
  } catch (e) {
    if (!(e instanceof GroupAborted)) {
      mem.abort(`replica thread ${data.rank}: ${message(e)}`);
      parentPort?.postMessage({ type: 'error', message: message(e) });
    }
  } finally {
    model?.dispose();
  }
}

void main();
