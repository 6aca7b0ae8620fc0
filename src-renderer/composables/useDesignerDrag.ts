// The designer's stack editing: drag and drop (palette → stack, block → elsewhere), click-to-add, remove and
// move — provided to the recursive StackList and the palette through the DESIGNER context.
import { provide, ref, type Ref } from 'vue';
import type { DesignBlock } from '../../shared/api.js';
import { defaultBlock, type DesignIssue } from '../../shared/design.js';
import { getAt, insertAt, moveTo, removeAt, samePath, type Path } from '../lib/designStack.js';
import { DESIGNER, DRAG_MIME, type DragPayload } from '../lib/designerCtx.js';
import { notify } from '../state/store.js';

export interface StackDoc {
  blocks: Ref<DesignBlock[]>;
  selected: Ref<Path | null>;
  issues: Ref<DesignIssue[]>;
  /** Called before every structural edit (the undo history makes it its own step). */
  structural(): void;
}

function readDrag(e: DragEvent): DragPayload | null {
  try {
    const t = e.dataTransfer?.getData(DRAG_MIME);
    return t ? (JSON.parse(t) as DragPayload) : null;
  } catch {
    return null;
  }
}

export function useDesignerDrag(doc: StackDoc) {
  const { blocks, selected } = doc;
  const dropHint = ref<{ container: Path; index: number } | null>(null);
  let drag: DragPayload | null = null;

  /** A palette click: add after the selection (inside a selected group), else before the output Dense. */
  function addBlock(kind: DesignBlock['kind']) {
    const sel = selected.value;
    let container: Path = [];
    let index = Math.max(0, blocks.value.length - (blocks.value[blocks.value.length - 1]?.kind === 'dense' ? 1 : 0));
    if (sel) {
      const b = getAt(blocks.value, sel);
      if (b?.kind === 'repeat' && kind !== 'repeat') {
        container = sel;
        index = b.blocks.length;
      } else {
        container = sel.slice(0, -1);
        index = sel[sel.length - 1] + 1;
      }
    }
    doc.structural();
    blocks.value = insertAt(blocks.value, container, index, defaultBlock(kind));
    selected.value = [...container, index];
  }

  provide(DESIGNER, {
    selected,
    dropHint,
    issuesAt: (p) => doc.issues.value.filter((i) => samePath(i.path, p)),
    select: (p) => (selected.value = p),
    remove(p) {
      doc.structural();
      blocks.value = removeAt(blocks.value, p);
      selected.value = null;
    },
    move(p, dir) {
      const i = p[p.length - 1];
      const r = moveTo(blocks.value, p, p.slice(0, -1), dir < 0 ? i - 1 : i + 2);
      if (r) {
        doc.structural();
        blocks.value = r.blocks;
        selected.value = r.path;
      }
    },
    startDrag(p, e) {
      drag = p;
      if (e.dataTransfer) {
        e.dataTransfer.effectAllowed = p.type === 'new' ? 'copy' : 'move';
        e.dataTransfer.setData(DRAG_MIME, JSON.stringify(p));
        e.dataTransfer.setData('text/plain', p.type === 'new' ? p.kind : 'block');
      }
    },
    hint(container, index, e) {
      if (!drag && !readDrag(e)) return;
      if (e.dataTransfer) e.dataTransfer.dropEffect = drag?.type === 'new' ? 'copy' : 'move';
      const h = dropHint.value;
      if (!h || h.index !== index || !samePath(h.container, container)) dropHint.value = { container, index };
    },
    drop(container, index, e) {
      const p = drag ?? readDrag(e);
      drag = null;
      dropHint.value = null;
      if (!p) return;
      doc.structural();
      if (p.type === 'new') {
        blocks.value = insertAt(blocks.value, container, index, defaultBlock(p.kind));
        selected.value = [...container, index];
      } else {
        const r = moveTo(blocks.value, p.path, container, index);
        if (!r) return notify('a group cannot be dropped into itself', 'error');
        blocks.value = r.blocks;
        selected.value = r.path;
      }
    },
  });

  function endDrag() {
    drag = null;
    dropHint.value = null;
  }
  return { dropHint, addBlock, endDrag };
}
