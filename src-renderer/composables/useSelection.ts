// Row selection as in a file manager: click selects one, Ctrl/⌘+click toggles, Shift+click extends a range from
// the last clicked row (over the rows loaded so far), a checkbox toggles one.
import { reactive } from 'vue';

export function useSelection(idAt: (index: number) => string | undefined) {
  const selected = reactive(new Set<string>());
  let anchor = -1;
  function click(e: MouseEvent, index: number, id: string) {
    if (e.shiftKey && anchor >= 0) {
      const [a, b] = [Math.min(anchor, index), Math.max(anchor, index)];
      for (let k = a; k <= b; k++) {
        const x = idAt(k);
        if (x) selected.add(x);
      }
    } else if (e.metaKey || e.ctrlKey) {
      selected.has(id) ? selected.delete(id) : selected.add(id);
      anchor = index;
    } else {
      selected.clear();
      selected.add(id);
      anchor = index;
    }
  }
  function toggle(id: string, index: number) {
    selected.has(id) ? selected.delete(id) : selected.add(id);
    anchor = index;
  }
  const allOf = (ids: string[]) => ids.length > 0 && ids.every((id) => selected.has(id));
  /** Select all of `ids`, or clear when all of them are selected already. */
  function toggleAll(ids: string[]) {
    if (allOf(ids)) selected.clear();
    else for (const id of ids) selected.add(id);
  }
  return { selected, click, toggle, toggleAll, allOf };
}
