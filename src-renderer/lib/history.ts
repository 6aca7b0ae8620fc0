// Undo/redo for an editor's document: a stack of JSON snapshots. Bursts of small edits (typing in a field)
// coalesce into one step; structural edits (add, remove, move a block) are always their own step.
export class EditHistory {
  private readonly undos: string[] = [];
  private readonly redos: string[] = [];
  private lastAt = 0;

  constructor(
    private current: string,
    private readonly opts: { coalesceMs?: number; limit?: number; now?: () => number } = {},
  ) {}

  /** The document changed to `next`; `structural` edits never merge into the previous step. */
  record(next: string, structural = false): void {
    if (next === this.current) return;
    const now = (this.opts.now ?? Date.now)();
    const merge =
      !structural &&
      this.undos.length > 0 &&
      this.redos.length === 0 &&
      now - this.lastAt < (this.opts.coalesceMs ?? 800);
    if (!merge) {
      this.undos.push(this.current);
      if (this.undos.length > (this.opts.limit ?? 200)) this.undos.shift();
    }
    this.redos.length = 0;
    this.current = next;
    this.lastAt = structural ? 0 : now;
  }

  /** A change that is not the user's own edit (e.g. the output width following the dataset): no step. */
  absorb(next: string): void {
    this.current = next;
  }

  undo(): string | null {
    const prev = this.undos.pop();
    if (prev === undefined) return null;
    this.redos.push(this.current);
    this.current = prev;
    this.lastAt = 0;
    return prev;
  }

  redo(): string | null {
    const next = this.redos.pop();
    if (next === undefined) return null;
    this.undos.push(this.current);
    this.current = next;
    this.lastAt = 0;
    return next;
  }

  get canUndo(): boolean {
    return this.undos.length > 0;
  }

  get canRedo(): boolean {
    return this.redos.length > 0;
  }
}

/** Ctrl/Cmd+Z undoes, Shift+Ctrl/Cmd+Z and Ctrl+Y redo. */
export function undoKey(e: KeyboardEvent): 'undo' | 'redo' | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey) return null;
  const k = e.key.toLowerCase();
  if (k === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (k === 'y' && !e.metaKey) return 'redo';
  return null;
}
