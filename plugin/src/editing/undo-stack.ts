/** Undo and redo over immutable snapshots: each edit pushes the state after it. */
export class UndoStack<T> {
  private past: T[] = [];
  private future: T[] = [];

  constructor(private present: T) {}

  get current(): T {
    return this.present;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** An edit: the new state; what could be redone is gone. */
  push(state: T): void {
    this.past.push(this.present);
    this.present = state;
    this.future = [];
  }

  /** The state before the last edit, or undefined when there is none. */
  undo(): T | undefined {
    const previous = this.past.pop();
    if (previous === undefined) return undefined;
    this.future.push(this.present);
    this.present = previous;
    return previous;
  }

  redo(): T | undefined {
    const next = this.future.pop();
    if (next === undefined) return undefined;
    this.past.push(this.present);
    this.present = next;
    return next;
  }

  /** A fresh start (another slide, a loaded version): nothing to undo. */
  reset(state: T): void {
    this.past = [];
    this.future = [];
    this.present = state;
  }
}
