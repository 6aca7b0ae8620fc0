// What the designer's recursive stack list needs from the designer screen (provided/injected).
import type { InjectionKey, Ref } from 'vue';
import type { DesignBlock } from '../../shared/api.js';
import type { DesignIssue } from '../../shared/design.js';
import type { Path } from './designStack.js';

export type DragPayload = { type: 'new'; kind: DesignBlock['kind'] } | { type: 'move'; path: Path };

export interface DesignerCtx {
  selected: Ref<Path | null>;
  dropHint: Ref<{ container: Path; index: number } | null>;
  issuesAt(path: Path): DesignIssue[];
  select(path: Path): void;
  remove(path: Path): void;
  move(path: Path, dir: -1 | 1): void;
  startDrag(p: DragPayload, e: DragEvent): void;
  hint(container: Path, index: number, e: DragEvent): void;
  drop(container: Path, index: number, e: DragEvent): void;
}

export const DESIGNER: InjectionKey<DesignerCtx> = Symbol('designer');
export const DRAG_MIME = 'application/x-deepbern-block';
