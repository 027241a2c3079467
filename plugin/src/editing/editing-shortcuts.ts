/** The editing tool's keys, one registry for the keys and the `?` help. Keys do nothing while editing is off, but E. */
import type { Shortcut } from '../controllers/keyboard-shortcuts-controller.js';
import type { EditMode } from './edit-interactions.js';

export interface EditingActions {
  readonly active: boolean;
  readonly mode: EditMode;
  setMode(mode: EditMode): void;
  accept(): boolean;
  remove(): boolean;
  undo(): boolean;
  redo(): boolean;
  cancel(): boolean;
  save(): Promise<unknown>;
}

export function editingShortcuts(actions: EditingActions): Shortcut[] {
  const whileEditing = (run: () => boolean | void) => () => (actions.active ? run() : false);
  const mode = (to: EditMode) => whileEditing(() => actions.setMode(actions.mode === to ? 'select' : to));
  return [
    {
      keys: ['e'],
      description: 'Correct predictions: editing on or off',
      run: () => actions.setMode(actions.active ? 'off' : 'select'),
    },
    {
      keys: ['v'],
      description: 'Editing: select and move vertices',
      run: whileEditing(() => actions.setMode('select')),
    },
    {
      keys: ['n'],
      description: 'Editing: draw a missed glomerulus (click points, click the first to close)',
      run: mode('draw'),
    },
    { keys: ['b'], description: 'Editing: mark a reviewed region (a box: two corners)', run: mode('region') },
    { keys: ['B'], description: 'Editing: mark a reviewed region as a polygon (Shift+B)', run: mode('area') },
    { keys: ['a'], description: 'Editing: accept the selected prediction', run: whileEditing(() => actions.accept()) },
    {
      keys: ['Delete', 'x'],
      description: 'Editing: delete the selected glomerulus or region',
      run: whileEditing(() => actions.remove()),
    },
    { keys: ['z'], description: 'Editing: undo', run: whileEditing(() => actions.undo()) },
    { keys: ['y', 'Z'], description: 'Editing: redo', run: whileEditing(() => actions.redo()) },
    {
      keys: ['Escape'],
      description: 'Editing: drop the drawing or the selection',
      run: whileEditing(() => actions.cancel()),
    },
    {
      keys: ['S'],
      description: 'Editing: save the corrections to the server (Shift+S)',
      run: whileEditing(() => void actions.save()),
    },
  ];
}
