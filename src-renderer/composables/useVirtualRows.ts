// Virtual scrolling for a list of fixed-height rows: which rows are in view (plus overscan), the padding
// above and below them, and the scroll/resize bookkeeping (one update per animation frame).
import { computed, onBeforeUnmount, onMounted, ref, type Ref } from 'vue';
import { visibleRange } from '../lib/virtual.js';

export interface VirtualRowsOptions {
  /** A fixed viewport height (px) instead of measuring the scroller (a list with a CSS max-height). */
  viewport?: number;
  overscan?: number;
}

export function useVirtualRows(rowHeight: number, count: Ref<number>, opts: VirtualRowsOptions = {}) {
  const scroller = ref<HTMLElement>();
  const scrollTop = ref(0);
  const viewport = ref(opts.viewport ?? 600);
  const range = computed(() => visibleRange(scrollTop.value, viewport.value, rowHeight, count.value, opts.overscan));
  let raf = 0;
  function onScroll() {
    if (raf) return;
    raf = requestAnimationFrame(() => {
      raf = 0;
      scrollTop.value = scroller.value?.scrollTop ?? 0;
    });
  }
  let ro: ResizeObserver | null = null;
  onMounted(() => {
    if (opts.viewport !== undefined || !scroller.value) return;
    viewport.value = scroller.value.clientHeight || 600;
    if (typeof ResizeObserver !== 'undefined') {
      ro = new ResizeObserver(() => (viewport.value = scroller.value?.clientHeight || 600));
      ro.observe(scroller.value);
    }
  });
  onBeforeUnmount(() => {
    ro?.disconnect();
    if (raf) cancelAnimationFrame(raf);
  });
  return { scroller, range, onScroll };
}
