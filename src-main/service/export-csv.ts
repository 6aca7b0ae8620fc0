// Metrics of runs as one long CSV table: run_id,epoch,layer,metric,value,run_name,label (layer empty for epoch
// metrics). Long format because every tool (pandas, R, spreadsheets) pivots it easily and it never changes shape;
// the run's name and activation label come last so a reader sees which run a row is (columns 1–5 stay as before).
import type { RunStore } from '../store/run-store.js';

export const CSV_HEADER = 'run_id,epoch,layer,metric,value,run_name,label';

/** A CSV field: quoted when it holds a comma, a quote or a line break (labels do: Bern_{9,0.01}[-5,5]). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function runsToCsv(store: RunStore, runIds: string[]): Promise<string> {
  const lines = [CSV_HEADER];
  for (const id of runIds) {
    const run = await store.getRun(id);
    const who = `${csvField(run.name)},${csvField(run.label)}`;
    for (const e of await store.epochMetrics(id)) {
      for (const [metric, value] of Object.entries(e.metrics))
        lines.push(`${id},${e.epoch},,${metric},${value},${who}`);
    }
    for (const l of await store.layerMetrics(id, {}))
      lines.push(`${id},${l.epoch},${l.layer},${l.metric},${l.value},${who}`);
  }
  return lines.join('\n') + '\n';
}
