// Esc closes the topmost open dialog, drawer or modal — one listener for the whole app. A component registers
// its dialog with `useDialog(isOpen, close)`; the newest open one is on top. A dialog inside a screen that is
// not shown (screens are kept alive) leaves the stack until the screen is shown again.
import { getCurrentInstance, onActivated, onBeforeUnmount, onDeactivated, watch } from 'vue';

interface Entry {
  close: () => void;
}
const stack: Entry[] = [];

/** How many dialogs Esc would close, one per press (for tests and for code that must know). */
export const openDialogs = (): number => stack.length;

/** Closes the topmost dialog; false when none is open. */
export function closeTopDialog(): boolean {
  const top = stack.pop();
  if (!top) return false;
  top.close();
  return true;
}

function remove(e: Entry): void {
  const i = stack.indexOf(e);
  if (i >= 0) stack.splice(i, 1);
}

if (typeof window !== 'undefined') {
  window.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented || e.isComposing) return;
    if (closeTopDialog()) {
      e.preventDefault();
      e.stopPropagation();
    }
  });
}

/**
 * Registers a dialog: while `isOpen()` is true (and its screen is shown), Esc closes it by calling `close`.
 * For a component that exists only while open (a drawer under `v-if`), pass `() => true`.
 */
export function useDialog(isOpen: () => boolean, close: () => void): void {
  const entry: Entry = { close };
  let shown = true;
  const sync = () => {
    remove(entry);
    if (shown && isOpen()) stack.push(entry);
  };
  watch(isOpen, sync, { immediate: true, flush: 'sync' }); // sync: closed and reopened in one tick is still open
  if (getCurrentInstance()) {
    onDeactivated(() => {
      shown = false;
      sync();
    });
    onActivated(() => {
      shown = true;
      sync();
    });
    onBeforeUnmount(() => remove(entry));
  }
}
