/**
 * Single-key shortcuts on an element (the viewer): a registry of keys and what they do, which the `?` help lists as
 * it is. Keys typed into a box, slider or button are theirs, and a key with Ctrl, Alt or Meta is the browser's.
 * Listening on the host sees keys from its whole shadow tree (keydown is composed).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export interface Shortcut {
  /** KeyboardEvent.key values that run it, e.g. ['?'] or ['+', '=']. */
  keys: readonly string[];
  /** What it does, as the help lists it. */
  description: string;
  /**
   * Run on the key; returns false when it did nothing (the key then keeps its usual meaning). None: listed only (a
   * key something else handles, such as the map's arrows).
   */
  run?(): boolean | void;
}

/** Targets whose keys are their own (typing, sliders, buttons', links' and summaries' Space and Enter). */
const OWN_KEYS = /^(INPUT|SELECT|TEXTAREA|BUTTON|A|SUMMARY)$/;

export function ownsKeys(target: EventTarget | undefined): boolean {
  const element = target as HTMLElement | undefined;
  return !!element && (OWN_KEYS.test(element.tagName) || element.isContentEditable);
}

export class KeyboardShortcutsController implements ReactiveController {
  private readonly onKeyDown = (event: KeyboardEvent) => this.handle(event);

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly shortcuts: () => readonly Shortcut[],
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.host.addEventListener('keydown', this.onKeyDown);
  }

  hostDisconnected(): void {
    this.host.removeEventListener('keydown', this.onKeyDown);
  }

  /** The shortcut a key runs, if any. */
  find(key: string): Shortcut | undefined {
    return this.shortcuts().find((shortcut) => shortcut.run && shortcut.keys.includes(key));
  }

  /** Runs the shortcut of a key pressed here or on another element that forwards its keys (a portal's map). */
  handle(event: KeyboardEvent): void {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    if (ownsKeys(event.composedPath()[0])) return;
    const shortcut = this.find(event.key);
    if (!shortcut || shortcut.run!() === false) return;
    event.preventDefault();
  }
}
