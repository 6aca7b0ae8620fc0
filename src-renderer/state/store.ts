// App-wide state: system/workers status, connection, the run selection Compare shows, hand-offs between screens.
import { reactive, watch } from 'vue';
import type { DatasetInfo, DesignBlock, SystemInfo, WorkbenchEvent } from '../../shared/api.js';
import type { NetworkSpecInput } from '../../shared/spec.js';
import { getApi, type ConnectionState } from '../api/client.js';

export interface DesignDraft {
  id?: string;
  name: string;
  blocks: DesignBlock[];
  training: Partial<NetworkSpecInput>;
}

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'ok' | 'error';
}

export const store = reactive({
  system: null as SystemInfo | null,
  systemError: '',
  workers: { size: 0, busy: 0, reason: undefined as string | undefined },
  connection: 'connecting' as ConnectionState,
  /** Runs chosen in the Runs table for Compare (ordered, ids). */
  compareIds: [] as string[],
  /** Runs hidden from every chart (a legend click); they stay in the comparison. */
  hiddenRuns: [] as string[],
  /** The designer's current design (Train hands it to the sweep builder). */
  designerDraft: null as DesignDraft | null,
  /** A design to open in the designer (from a run or a saved design). */
  openInDesigner: null as DesignDraft | null,
  /** The design the sweep builder starts from. */
  sweepFrom: null as DesignDraft | null,
  /** A file dropped anywhere on the window, for the datasets screen. */
  pendingFile: null as File | null,
  /** A sweep for the Paper screen to open (from the Runs screen's sweep list). */
  paperSweepId: null as string | null,
  datasets: [] as DatasetInfo[],
  toasts: [] as Toast[],
});

// The comparison survives a reload (per tab).
try {
  const saved = sessionStorage.getItem('deepbern.compare');
  if (saved) store.compareIds = JSON.parse(saved) as string[];
} catch {
  /* no storage */
}
watch(
  () => store.compareIds,
  (ids) => {
    try {
      sessionStorage.setItem('deepbern.compare', JSON.stringify(ids));
    } catch {
      /* no storage */
    }
  },
);

let toastId = 0;
export function notify(text: string, kind: Toast['kind'] = 'info', ms = kind === 'error' ? 8000 : 3500): void {
  const t = { id: ++toastId, text, kind };
  store.toasts.push(t);
  setTimeout(() => {
    const i = store.toasts.findIndex((x) => x.id === t.id);
    if (i >= 0) store.toasts.splice(i, 1);
  }, ms);
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ── routing: #/designer, #/runs?q=… (state/route.ts) ───────────────────────────────────────────────────────────
export { go, view, type View, VIEWS } from './route.js';

// ── system status and events ─────────────────────────────────────────────────────────────────────────────────
export async function refreshSystem(): Promise<void> {
  try {
    const info = await getApi().call('system.info');
    store.system = info;
    store.workers = { size: info.workers.size, busy: info.workers.busy, reason: info.workers.reason };
    store.systemError = '';
  } catch (e) {
    store.systemError = errText(e);
  }
}

export async function refreshDatasets(): Promise<DatasetInfo[]> {
  try {
    store.datasets = await getApi().call('datasets.list');
  } catch (e) {
    notify(`datasets: ${errText(e)}`, 'error');
  }
  return store.datasets;
}

let started = false;
export function startSystem(): void {
  if (started) return;
  started = true;
  const api = getApi();
  api.onConnection((s) => {
    const was = store.connection;
    store.connection = s;
    if (s === 'open' && was !== 'open') void refreshSystem();
  });
  api.on((e: WorkbenchEvent) => {
    if (e.type === 'workers') store.workers = { ...store.workers, size: e.size, busy: e.busy };
    // Every screen's dataset pickers read store.datasets: an import or removal anywhere shows up everywhere.
    if (e.type === 'data-changed' && e.what === 'datasets') void refreshDatasets();
  });
  void refreshSystem();
}
