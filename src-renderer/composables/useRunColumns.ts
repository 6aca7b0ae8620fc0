// Which columns the runs table shows (the column chooser), remembered across sessions in localStorage, and
// the name column's width fitted to the names in view.
import { computed, ref, watch, type Ref } from 'vue';
import type { RunSummary } from '../../shared/api.js';
import { estimateText, nameWidth, RUN_COLUMNS, type MeasureText, type RunColumn } from '../lib/runColumns.js';

export const COLUMNS_KEY = 'deepbern.runs.columns';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled
  }
}

function readHidden(): string[] {
  try {
    const v = JSON.parse(storage()?.getItem(COLUMNS_KEY) ?? 'null') as { hidden?: unknown } | null;
    return Array.isArray(v?.hidden) ? v.hidden.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return []; // unreadable: every column
  }
}

/** Measures text at the table cells' font (12.5 px, the app's sans) on a canvas; an estimate without one. */
function textMeasurer(): MeasureText {
  try {
    const ctx = typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
    if (!ctx) return estimateText;
    ctx.font = `12.5px ${getComputedStyle(document.body).fontFamily || 'sans-serif'}`;
    return (t) => ctx.measureText(t).width;
  } catch {
    return estimateText; // no canvas (tests)
  }
}

export function useRunColumns(rows: Ref<RunSummary[]>) {
  const hidden = ref<string[]>(readHidden());
  watch(
    hidden,
    (h) => {
      try {
        storage()?.setItem(COLUMNS_KEY, JSON.stringify({ hidden: h }));
      } catch {
        /* full or disabled: the choice lasts this session */
      }
    },
    { deep: true },
  );
  const choosable = RUN_COLUMNS.filter((c) => !c.pinned);
  const isShown = (key: string) => !hidden.value.includes(key);
  function toggle(key: string) {
    hidden.value = isShown(key) ? [...hidden.value, key] : hidden.value.filter((k) => k !== key);
  }
  const reset = () => (hidden.value = []);
  const names = computed(() => rows.value.map((r) => r.name));
  let measure: MeasureText | null = null;
  const columns = computed<RunColumn[]>(() =>
    RUN_COLUMNS.filter((c) => c.pinned || isShown(c.key)).map((c) =>
      c.key === 'name' ? { ...c, width: nameWidth(names.value, c.width, undefined, (measure ??= textMeasurer())) } : c,
    ),
  );
  return { columns, choosable, isShown, toggle, reset, hidden };
}
