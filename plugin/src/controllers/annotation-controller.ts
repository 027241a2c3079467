/**
 * Ground truth inside an element: the annotation layer, what is loaded on it and whether it is shown, as the
 * element's state. Loads from text, a file (picked, or dropped on the map) or a URL, for the slide the element
 * shows; `onLoaded` hears of every change of what is loaded.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { AnnotationFormat } from '@glomseg/shared/annotations.js';
import type { LoadedAnnotations } from '../annotation-source.js';
import type { SlideFrame } from '../slide-frame.js';
import { AnnotationLayer, type AnnotationInput } from '../layers/annotation-layer.js';

export interface AnnotationHooks {
  /** The slide's frame and size to place annotations in (the size may be unknown yet). */
  placement(): { frame: SlideFrame; width?: number; height?: number };
  /** Annotations were loaded (or cleared: undefined). */
  onLoaded(loaded: LoadedAnnotations | undefined): void;
  onError(error: unknown): void;
}

export class AnnotationController implements ReactiveController {
  readonly layer: AnnotationLayer;
  loaded?: LoadedAnnotations;
  visible = true;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly hooks: AnnotationHooks,
  ) {
    host.addController(this);
    this.layer = new AnnotationLayer((file) => void this.load({ file }));
  }

  hostDisconnected(): void {
    this.layer.clear();
    this.layer.detach();
  }

  /** Reads and draws annotations, replacing those shown; undefined when a later load or clear overtook it, or it failed. */
  async load(
    input: AnnotationInput,
    options: { format?: AnnotationFormat; name?: string } = {},
  ): Promise<LoadedAnnotations | undefined> {
    const { frame, width, height } = this.hooks.placement();
    try {
      const loaded = await this.layer.load(input, options, { width, height }, frame);
      if (!loaded) return undefined;
      this.loaded = loaded;
      this.host.requestUpdate();
      this.hooks.onLoaded(loaded);
      return loaded;
    } catch (error) {
      this.hooks.onError(error);
      return undefined;
    }
  }

  clear(): void {
    this.layer.clear();
    const had = this.loaded !== undefined;
    this.loaded = undefined;
    if (had) this.host.requestUpdate();
    this.hooks.onLoaded(undefined);
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.layer.layer.setVisible(visible);
    this.host.requestUpdate();
  }

  /** Annotations loaded before the slide's height was known sit wrong in a bottom-left frame: place them again. */
  place(frame: SlideFrame): void {
    if (this.loaded && frame.origin === 'bottom-left') this.layer.place(frame);
  }
}
