/**
 * Corrections on <glomseg-overlay>: the editing tool and its mode, the corrections with undo and redo, what is
 * selected, saving to and loading from the server's annotation store (with the version they were edited from), the
 * keyboard shortcuts, and the `glomseg-corrections` / `glomseg-annotations-saved` / `-loaded` events.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type OlMap from 'ol/Map.js';
import type { Ring } from '@glomseg/shared/geometry.js';
import type { AnnotationVersionInfo } from '@glomseg/shared/reviewed-annotations.js';
import { glomsegEvent, type CorrectionsEventDetail } from '../events.js';
import { describeError, type GlomsegClient } from '../glomseg-client.js';
import type { PredictionLayer } from '../layers/prediction-layer.js';
import * as edits from '../editing/corrections.js';
import { UndoStack } from '../editing/undo-stack.js';
import { EditInteractions, type EditMode } from '../editing/edit-interactions.js';
import { isConflict, latestVersion, loadLatestCorrections, saveCorrections } from '../editing/annotation-sync.js';
import { editingShortcuts } from '../editing/editing-shortcuts.js';
import { KeyboardShortcutsController, type Shortcut } from './keyboard-shortcuts-controller.js';

export interface EditingContext {
  predictions: PredictionLayer;
  slide(): string;
  client(): GlomsegClient;
  serverUrl(): string;
}

/** A line for the person: what happened to a save or a load. */
export interface EditingMessage {
  kind: 'error' | 'info';
  text: string;
}

export class EditingController implements ReactiveController {
  readonly history = new UndoStack<edits.CorrectionsState>(edits.EMPTY_CORRECTIONS);
  selection?: edits.DeleteTarget;
  /** The saved version these corrections started from (0: none), and the newest the server has. */
  baseVersion = 0;
  latest?: AnnotationVersionInfo;
  /** The corrections as last saved or loaded: anything else is unsaved. */
  private savedState: edits.CorrectionsState = edits.EMPTY_CORRECTIONS;
  busy?: 'saving' | 'loading';
  message?: EditingMessage;
  readonly shortcuts: readonly Shortcut[];
  readonly interactions: EditInteractions;
  private readonly keys: KeyboardShortcutsController;
  private map?: OlMap;
  private slideShown = '';
  private abort = new AbortController();
  private readonly forwardKey = (event: KeyboardEvent) => this.keys.handle(event);

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly context: EditingContext,
  ) {
    this.interactions = new EditInteractions(context.predictions.layer, {
      frame: () => context.predictions.session?.frame,
      onSelect: (target) => this.setSelection(target),
      onReshape: (id, ring) => this.edit((s) => edits.reshape(s, id, ring)),
      onReshapePrediction: (id, ring) => this.edit((s) => edits.reshapePrediction(s, id, ring)),
      onDraw: (ring: Ring) => this.edit((s) => edits.drawGlomerulus(s, ring)),
      onRegion: (ring: Ring) => this.edit((s) => edits.markRegion(s, ring)),
    });
    this.shortcuts = editingShortcuts(this);
    this.keys = new KeyboardShortcutsController(host, () => this.shortcuts);
    host.addController(this);
  }

  get state(): edits.CorrectionsState {
    return this.history.current;
  }

  get mode(): EditMode {
    return this.interactions.mode;
  }

  get active(): boolean {
    return this.mode !== 'off';
  }

  get counts(): edits.CorrectionCounts {
    return edits.correctionCounts(this.state);
  }

  get unsaved(): boolean {
    return this.state !== this.savedState;
  }

  hostUpdated(): void {
    const map = this.context.predictions.attachedMap;
    if (map !== this.map) this.attach(map);
    const slide = this.context.slide();
    if (slide !== this.slideShown) {
      this.slideShown = slide;
      this.startSlide();
    }
  }

  hostDisconnected(): void {
    this.abort.abort();
    this.attach(undefined);
  }

  setMode(mode: EditMode): void {
    const starting = !this.active && mode !== 'off';
    this.interactions.setMode(mode);
    if (mode !== 'select') this.setSelection(undefined);
    if (starting) void this.checkLatest();
    this.changed();
  }

  /** Accepts the selected prediction as it is; false when none is selected. */
  accept(): boolean {
    const target = this.selection;
    if (!target || !('predictionId' in target)) return false;
    this.edit((s) => edits.acceptPrediction(s, target.predictionId, target.ring));
    return true;
  }

  /** Deletes what is selected (a prediction is marked false); false when nothing is. */
  remove(): boolean {
    const target = this.selection;
    if (!target) return false;
    this.edit((s) => edits.deleteTarget(s, target));
    return true;
  }

  undo(): boolean {
    return this.restore(this.history.undo());
  }

  redo(): boolean {
    return this.restore(this.history.redo());
  }

  /** Drops a drawing under way or the selection. */
  cancel(): boolean {
    return this.active && this.interactions.cancel();
  }

  /** Saves the corrections as the slide's next version; refused (in words) when someone saved meanwhile. */
  async save(): Promise<AnnotationVersionInfo | undefined> {
    const slideId = this.context.slide();
    return this.call('saving', async (signal) => {
      const state = this.state;
      const version = await saveCorrections(
        this.context.client(),
        { slideId, baseVersion: this.baseVersion, state },
        signal,
      );
      this.savedState = state;
      this.baseVersion = version.version;
      this.latest = version;
      this.message = { kind: 'info', text: `Saved as version ${version.version}.` };
      this.host.dispatchEvent(glomsegEvent('glomseg-annotations-saved', version));
      return version;
    });
  }

  /** Replaces the corrections with the slide's latest saved version (undo brings back what was there). */
  async loadLatest(): Promise<AnnotationVersionInfo | undefined> {
    const slideId = this.context.slide();
    return this.call('loading', async (signal) => {
      const loaded = await loadLatestCorrections(this.context.client(), slideId, signal);
      if (!loaded) {
        this.message = { kind: 'info', text: 'Nothing has been saved for this slide yet.' };
        return undefined;
      }
      this.history.push(loaded.state);
      this.savedState = loaded.state;
      this.baseVersion = loaded.version.version;
      this.latest = loaded.version;
      this.message = { kind: 'info', text: `Loaded version ${loaded.version.version} by ${loaded.version.author}.` };
      this.show();
      this.host.dispatchEvent(glomsegEvent('glomseg-annotations-loaded', loaded.version));
      return loaded.version;
    });
  }

  private async call<T>(busy: 'saving' | 'loading', run: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    if (this.busy || !this.context.slide()) return undefined;
    const slide = this.context.slide();
    const signal = this.abort.signal;
    this.busy = busy;
    this.message = undefined;
    this.host.requestUpdate();
    try {
      return await run(signal);
    } catch (error) {
      if (!signal.aborted && slide === this.context.slide()) this.failed(error, busy);
      return undefined;
    } finally {
      if (!signal.aborted) this.busy = undefined;
      this.changed();
    }
  }

  private failed(error: unknown, busy: 'saving' | 'loading'): void {
    const detail = describeError(error, this.context.serverUrl());
    const what = busy === 'saving' ? 'Not saved' : 'Not loaded';
    const text = isConflict(error)
      ? `Not saved: someone saved this slide meanwhile. ${capitalise(detail.message)}.`
      : `${what}: ${detail.message}`;
    this.message = { kind: 'error', text };
    this.host.dispatchEvent(glomsegEvent('glomseg-error', detail));
  }

  /** What the server has for this slide, so a save's base is known before it is refused. */
  private async checkLatest(): Promise<void> {
    const slideId = this.context.slide();
    if (!slideId) return;
    try {
      this.latest = await latestVersion(this.context.client(), slideId, this.abort.signal);
    } catch {
      // A server without a store says so when saving; nothing to show yet.
    }
    if (slideId === this.context.slide()) this.host.requestUpdate();
  }

  private startSlide(): void {
    this.abort.abort();
    this.abort = new AbortController();
    this.busy = undefined;
    this.history.reset(edits.EMPTY_CORRECTIONS);
    this.savedState = edits.EMPTY_CORRECTIONS;
    this.baseVersion = 0;
    this.latest = undefined;
    this.message = undefined;
    this.show();
    if (this.active) void this.checkLatest();
  }

  private attach(map: OlMap | undefined): void {
    this.map?.getTargetElement()?.removeEventListener('keydown', this.forwardKey);
    this.interactions.detach();
    this.map = map;
    if (!map) return;
    this.interactions.attach(map);
    // Keys pressed on a portal's map (outside the overlay) are the overlay's too.
    map.getTargetElement()?.addEventListener('keydown', this.forwardKey);
    this.show();
  }

  private edit(change: (state: edits.CorrectionsState) => edits.CorrectionsState): void {
    this.history.push(change(this.state));
    this.message = undefined;
    this.show();
  }

  private restore(state: edits.CorrectionsState | undefined): boolean {
    if (!state) return false;
    this.show();
    return true;
  }

  private setSelection(target: edits.DeleteTarget | undefined): void {
    if (this.selection === target) return;
    this.selection = target;
    this.host.requestUpdate();
  }

  private show(): void {
    this.interactions.show(this.state);
    this.changed();
  }

  private changed(): void {
    this.host.requestUpdate();
    const detail: CorrectionsEventDetail = {
      counts: this.counts,
      mode: this.mode,
      canUndo: this.history.canUndo,
      canRedo: this.history.canRedo,
      baseVersion: this.baseVersion,
      unsaved: this.unsaved,
    };
    this.host.dispatchEvent(glomsegEvent('glomseg-corrections', detail));
  }
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
