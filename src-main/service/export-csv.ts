// Metrics of runs as one long CSV table: run_id,epoch,layer,metric,value (layer empty for epoch metrics).
// Long format because every tool (pandas, R, spreadsheets) pivots it easily and it never changes shape.
import type { RunStore } from '../store/run-store.js';

export async function runsToCsv(store: RunStore, runIds: string[]): Promise<string> {
  const lines = ['run_id,epoch,layer,metric,value'];
  for (const id of runIds) {
    for (const e of await store.epochMetrics(id)) {
      for (const [metric, value] of Object.entries(e.metrics)) lines.push(`${id},${e.epoch},,${metric},${value}`);
    }
    for (const l of await store.layerMetrics(id, {})) lines.push(`${id},${l.epoch},${l.layer},${l.metric},${l.value}`);
  }
  return lines.join('\n') + '\n';
}
