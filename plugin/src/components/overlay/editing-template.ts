/**
 * The overlay's corrections section: editing on or off, its tools (select, draw, region), accept, delete, undo,
 * redo, save and load, the counts of corrected and reviewed items, and what a save or load came to. Buttons are
 * touch-sized.
 */
import { css, html, nothing, type TemplateResult } from 'lit';
import type { EditingController } from '../../controllers/editing-controller.js';
import type { EditMode } from '../../editing/edit-interactions.js';
import { errorNotice } from '../../internal/notice.styles.js';

const TOOLS: ReadonlyArray<{ mode: EditMode; label: string; key: string; title: string }> = [
  { mode: 'select', label: 'Select', key: 'v', title: 'Select a glomerulus; drag its vertices to move them' },
  { mode: 'draw', label: 'Draw', key: 'n', title: 'Draw a missed glomerulus: click points, click the first to close' },
  { mode: 'region', label: 'Region', key: 'b', title: 'Mark a reviewed region: a box from two corners' },
  {
    mode: 'area',
    label: 'Region ⬠',
    key: 'Shift+B',
    title: 'Mark a reviewed region as a polygon: click the first point to close',
  },
];

function countsTemplate(editor: EditingController) {
  const c = editor.counts;
  const saved = editor.latest
    ? `Latest saved: version ${editor.latest.version} by ${editor.latest.author}`
    : 'Nothing saved yet';
  return html`
    <div
      part="editing-counts"
      data-accepted=${c.accepted}
      data-deleted=${c.deleted}
      data-edited=${c.edited}
      data-drawn=${c.drawn}
      data-corrected=${c.corrected}
      data-regions=${c.regions}
    >
      ${c.accepted} accepted · ${c.corrected} corrected (${c.deleted} deleted, ${c.edited} reshaped, ${c.drawn} drawn)
      · ${c.regions} reviewed ${c.regions === 1 ? 'region' : 'regions'}
    </div>
    <div part="editing-saved" data-base=${editor.baseVersion} data-unsaved=${editor.unsaved}>
      ${saved}${editor.unsaved ? ' · unsaved changes' : ''}
    </div>
  `;
}

function toolsTemplate(editor: EditingController) {
  const target = editor.selection;
  const busy = !!editor.busy;
  return html`
    <div class="row" role="toolbar" aria-label="Editing tools">
      ${TOOLS.map(
        (tool) => html`<button
          data-mode=${tool.mode}
          title="${tool.title} (${tool.key})"
          aria-pressed=${editor.mode === tool.mode}
          aria-keyshortcuts=${tool.key}
          @click=${() => editor.setMode(tool.mode)}
        >
          ${tool.label}
        </button>`,
      )}
    </div>
    <div class="row">
      <button data-action="accept" aria-keyshortcuts="a" ?disabled=${!target || !('predictionId' in target)} @click=${() => editor.accept()}>Accept</button>
      <button data-action="delete" aria-keyshortcuts="Delete" ?disabled=${!target} @click=${() => editor.remove()}>Delete</button>
      <button data-action="undo" aria-keyshortcuts="z" ?disabled=${!editor.history.canUndo} @click=${() => editor.undo()}>Undo</button>
      <button data-action="redo" aria-keyshortcuts="y" ?disabled=${!editor.history.canRedo} @click=${() => editor.redo()}>Redo</button>
    </div>
    <div class="row">
      <button data-action="save" aria-keyshortcuts="Shift+S" ?disabled=${busy} @click=${() => void editor.save()}>
        ${editor.busy === 'saving' ? 'Saving…' : 'Save'}
      </button>
      <button data-action="load" ?disabled=${busy} @click=${() => void editor.loadLatest()}>
        ${editor.busy === 'loading' ? 'Loading…' : 'Load latest'}
      </button>
    </div>
  `;
}

/** `more`: what else shows while editing (the model picker and Adapt). */
export function editingTemplate(editor: EditingController, more?: TemplateResult) {
  const message = editor.message;
  return html`
    <section part="editing" data-mode=${editor.mode}>
      <button
        part="editing-toggle"
        aria-pressed=${editor.active}
        aria-keyshortcuts="e"
        @click=${() => editor.setMode(editor.active ? 'off' : 'select')}
      >
        ${editor.active ? 'Stop correcting' : 'Correct predictions'}
      </button>
      ${editor.active ? toolsTemplate(editor) : nothing} ${editor.active ? (more ?? nothing) : nothing} ${countsTemplate(editor)}
      ${
        message
          ? html`<div part="editing-message" data-kind=${message.kind} role=${message.kind === 'error' ? 'alert' : 'status'}>
            ${message.text}
          </div>`
          : nothing
      }
    </section>
  `;
}

export const editingStyles = css`
  [part='editing'] {
    background: var(--glomseg-panel-background);
    margin-top: 8px;
    padding: 10px 12px;
    border-radius: 6px;
    display: grid;
    gap: 8px;
    overflow-wrap: anywhere;
  }
  [part='editing'] .row {
    display: flex;
    flex-wrap: wrap;
    gap: 6px;
  }
  /* Fingers need larger targets than a mouse pointer. */
  [part='editing'] button {
    min-height: 36px;
    min-width: 44px;
  }
  [part='editing'] button[aria-pressed='true'] {
    outline: 2px solid var(--glomseg-accent);
  }
  [part='editing-message'][data-kind='error'],
  [part='adapt-error'] {
    ${errorNotice}
  }
`;
