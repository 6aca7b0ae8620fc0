// Path-based edits of a designer stack (blocks nest inside Repeat groups). Pure functions returning new stacks.
import type { DesignBlock } from '../../shared/api.js';
import type { ParamlessActivation } from '../../shared/activations.js';
import { nothingFor } from '../../shared/exhaustive.js';

export type Path = number[];

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The list a path's last index lives in (the top stack or a repeat's body). */
function listAt(blocks: DesignBlock[], container: Path): DesignBlock[] | null {
  let list = blocks;
  for (const i of container) {
    const b = list[i];
    if (!b || b.kind !== 'repeat') return null;
    list = b.blocks;
  }
  return list;
}

export function getAt(blocks: DesignBlock[], path: Path): DesignBlock | null {
  if (!path.length) return null;
  const list = listAt(blocks, path.slice(0, -1));
  return list?.[path[path.length - 1]] ?? null;
}

export function samePath(a: Path | null | undefined, b: Path | null | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Is `inner` equal to or inside `outer`? */
export function isWithin(inner: Path, outer: Path): boolean {
  return inner.length >= outer.length && outer.every((v, i) => inner[i] === v);
}

export function insertAt(blocks: DesignBlock[], container: Path, index: number, block: DesignBlock): DesignBlock[] {
  const out = clone(blocks);
  const list = listAt(out, container);
  if (!list) return out;
  list.splice(Math.max(0, Math.min(index, list.length)), 0, clone(block));
  return out;
}

export function removeAt(blocks: DesignBlock[], path: Path): DesignBlock[] {
  const out = clone(blocks);
  const list = listAt(out, path.slice(0, -1));
  list?.splice(path[path.length - 1], 1);
  return out;
}

export function replaceAt(blocks: DesignBlock[], path: Path, block: DesignBlock): DesignBlock[] {
  const out = clone(blocks);
  const list = listAt(out, path.slice(0, -1));
  if (list) list[path[path.length - 1]] = clone(block);
  return out;
}

/**
 * Move the block at `from` to position `index` of `container` (positions as seen before the move).
 * Returns the block's new path, or null when the move is impossible (a group into itself).
 */
export function moveTo(
  blocks: DesignBlock[],
  from: Path,
  container: Path,
  index: number,
): { blocks: DesignBlock[]; path: Path } | null {
  if (isWithin(container, from)) return null;
  const block = getAt(blocks, from);
  if (!block) return null;
  const fromContainer = from.slice(0, -1);
  const fromIndex = from[from.length - 1];
  let target = [...container];
  let idx = index;
  // Removing `from` shifts later siblings (and containers below them) up by one.
  if (samePath(fromContainer, container) && fromIndex < idx) idx--;
  if (
    target.length > fromContainer.length &&
    samePath(target.slice(0, fromContainer.length), fromContainer) &&
    target[fromContainer.length] > fromIndex
  ) {
    target = [...target];
    target[fromContainer.length]--;
  }
  const removed = removeAt(blocks, from);
  const list = listAt(removed, target);
  if (!list) return null;
  idx = Math.max(0, Math.min(idx, list.length));
  return { blocks: insertAt(removed, target, idx, block), path: [...target, idx] };
}

/** Count blocks, recursively (for the stack's header). */
export function countBlocks(blocks: DesignBlock[]): number {
  return blocks.reduce((n, b) => n + 1 + (b.kind === 'repeat' ? countBlocks(b.blocks) : 0), 0);
}

/** Short text for a block, e.g. `Dense 100`, `Bern n=9 ε=0.01 [-5,5]`, `× 50`. */
export function blockSummary(b: DesignBlock): string {
  switch (b.kind) {
    case 'dense':
      return `${b.width} units`;
    case 'bernstein':
      return `n=${b.degree}  ε=${b.eps}  ${b.boundsMode === 'adaptive' ? 'adaptive' : `[${b.bounds[0]}, ${b.bounds[1]}]`}`;
    case 'leaky_relu':
      return `α=${b.alpha}`;
    case 'repeat':
      return `× ${b.times}`;
    case 'batchnorm':
      return 'no affine';
    case 'residual':
      return 'identity skip';
    default:
      nothingFor<ParamlessActivation>(b.kind); // no fields to summarise
      return '';
  }
}
