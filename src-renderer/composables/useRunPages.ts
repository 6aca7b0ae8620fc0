// The runs list as server pages: page p holds rows [p·size, (p+1)·size) of the current query. A new query
// (debounced, for typing) drops every page; an answer for an older query is ignored. Rows are reactive, so a
// live event that changes a row's status or epochs re-renders it without a hand-made tick.
import { computed, reactive, ref, shallowReactive, watch, type Ref } from 'vue';
import type { ListRunsQuery, RunSummary } from '../../shared/api.js';
import { pagesFor } from '../lib/virtual.js';
import { useApiCall } from './useApiCall.js';

export function useRunPages(
  query: Ref<ListRunsQuery>,
  opts: { pageSize?: number; debounceMs?: number; onReset?: () => void } = {},
) {
  const size = opts.pageSize ?? 100;
  const { api, attempt } = useApiCall();
  const total = ref(0);
  const pages = shallowReactive(new Map<number, RunSummary[]>());
  const loading = new Set<number>();
  const error = ref('');
  let generation = 0;

  /** Load page p of the query current at generation `gen` (an answer for an older generation is dropped). */
  async function loadPage(p: number, gen = generation): Promise<void> {
    if (loading.has(p)) return;
    loading.add(p);
    const onError = (m: string) => {
      if (gen === generation) error.value = m;
    };
    await attempt(onError, async () => {
      const r = await api.call('runs.list', { ...query.value, limit: size, offset: p * size });
      if (gen !== generation) return;
      total.value = r.total;
      pages.set(p, reactive(r.rows) as RunSummary[]);
      error.value = '';
    });
    loading.delete(p);
  }
  /** Load the pages rows [start, end) need that are not loaded yet. */
  function ensure(start: number, end: number) {
    for (const p of pagesFor(start, end, size)) if (!pages.has(p)) void loadPage(p);
  }
  /** Reload the pages of rows [start, end) in place (live refresh: the rows stay shown meanwhile). */
  function refresh(start: number, end: number) {
    const gen = generation;
    for (const p of pagesFor(start, Math.max(end, start + 1), size)) void loadPage(p, gen);
  }
  /** Drop every page and start again from page 0. */
  function reset() {
    generation++;
    pages.clear();
    loading.clear();
    void loadPage(0).then(() => opts.onReset?.());
  }
  let timer: ReturnType<typeof setTimeout> | null = null;
  watch(query, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(reset, opts.debounceMs ?? 200);
  });

  const rowAt = (i: number): RunSummary | undefined => pages.get(Math.floor(i / size))?.[i % size];
  function findRow(id: string): RunSummary | undefined {
    for (const rows of pages.values()) {
      const r = rows.find((x) => x.id === id);
      if (r) return r;
    }
    return undefined;
  }
  const loadedRows = computed(() => [...pages.values()].flat());
  return {
    total,
    error,
    pages,
    loadPage,
    ensure,
    refresh,
    reset,
    rowAt,
    findRow,
    loadedRows,
    isLoaded: () => pages.size > 0,
  };
}
