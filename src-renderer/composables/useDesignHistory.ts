// Undo/redo for the designer's document (blocks, their fields, training, the name, the saved id): every edit
// is a step (typing coalesces; structural edits never merge), Ctrl/Cmd+Z and Shift+Ctrl/Cmd+Z — ours, also
// inside the name field, where the browser's own text undo would rename the design behind our back.
import { onActivated, onBeforeUnmount, onDeactivated, onMounted, ref, watch, type Ref } from 'vue';
import type { DesignBlock } from '../../shared/api.js';
import type { NetworkSpecInput } from '../../shared/spec.js';
import { getAt, type Path } from '../lib/designStack.js';
import { EditHistory, undoKey } from '../lib/history.js';

export interface DesignDoc {
  designId: Ref<string | undefined>;
  name: Ref<string>;
  blocks: Ref<DesignBlock[]>;
  training: Ref<Partial<NetworkSpecInput>>;
  /** The selected block; cleared when an undo removes it. */
  selected: Ref<Path | null>;
}

export function useDesignHistory(doc: DesignDoc) {
  const snapshot = () =>
    JSON.stringify({
      id: doc.designId.value ?? null,
      name: doc.name.value,
      blocks: doc.blocks.value,
      training: doc.training.value,
    });
  const history = new EditHistory(snapshot());
  const canUndo = ref(false);
  const canRedo = ref(false);
  // What the next change is: a structural edit (its own step), automatic (no step) or an undo being applied.
  let structural = false;
  let automatic = false;
  let applying = false;
  watch(
    [doc.blocks, doc.training, doc.name, doc.designId],
    () => {
      const snap = snapshot();
      if (applying || automatic) history.absorb(snap);
      else history.record(snap, structural);
      applying = automatic = structural = false;
      canUndo.value = history.canUndo;
      canRedo.value = history.canRedo;
    },
    { deep: true },
  );

  function apply(snap: string | null) {
    if (snap === null) return;
    const d = JSON.parse(snap) as {
      id: string | null;
      name: string;
      blocks: DesignBlock[];
      training: Partial<NetworkSpecInput>;
    };
    applying = true;
    doc.designId.value = d.id ?? undefined;
    doc.name.value = d.name;
    doc.blocks.value = d.blocks;
    doc.training.value = d.training;
    if (doc.selected.value && !getAt(doc.blocks.value, doc.selected.value)) doc.selected.value = null;
    canUndo.value = history.canUndo;
    canRedo.value = history.canRedo;
  }
  const undo = () => apply(history.undo());
  const redo = () => apply(history.redo());
  function onKey(e: KeyboardEvent) {
    const what = undoKey(e);
    if (!what) return;
    e.preventDefault();
    if (what === 'undo') undo();
    else redo();
  }
  onActivated(() => window.addEventListener('keydown', onKey));
  onDeactivated(() => window.removeEventListener('keydown', onKey));
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));

  return {
    undo,
    redo,
    canUndo,
    canRedo,
    /** The next change adds, removes, moves a block or opens another design: always its own step. */
    structural: () => (structural = true),
    /** The next change is not the user's edit (the output width following the dataset): no step. */
    automatic: () => (automatic = true),
    /** Take the document as it is now without a step (saving assigns an id: undo never un-assigns it). */
    absorb: () => history.absorb(snapshot()),
  };
}
export type DesignHistory = ReturnType<typeof useDesignHistory>;
