/** What each of the panel's inputs does to the overlay: one handler a name (a new input is one entry here). */
import type { PanelInput } from '../../events.js';

/** The overlay's side of the panel's inputs. */
export interface PanelInputTarget {
  threshold: number;
  opacity: number;
  mppOverride: number;
  visible: boolean;
  showAnnotations(visible: boolean): void;
  loadAnnotations(file: File): void;
  clearAnnotations(): void;
  downloadGeoJson(): void;
}

type Handlers = {
  [N in PanelInput['name']]: (target: PanelInputTarget, input: PanelInput & { name: N }) => void;
};

const HANDLERS: Handlers = {
  threshold: (target, { value }) => (target.threshold = value),
  opacity: (target, { value }) => (target.opacity = value),
  mpp: (target, { value }) => (target.mppOverride = value),
  visible: (target, { value }) => (target.visible = value),
  annotationsVisible: (target, { value }) => target.showAnnotations(value),
  loadFile: (target, { value }) => target.loadAnnotations(value),
  clearAnnotations: (target) => target.clearAnnotations(),
  export: (target) => target.downloadGeoJson(),
};

export function applyPanelInput(target: PanelInputTarget, input: PanelInput): void {
  (HANDLERS[input.name] as (target: PanelInputTarget, input: PanelInput) => void)(target, input);
}
