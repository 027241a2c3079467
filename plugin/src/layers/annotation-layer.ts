/**
 * Ground truth on the map: loads annotations (text, File, URL; QuPath GeoJSON, labelme, HuBMAP RLE CSV), draws them
 * dashed, takes files dropped on the map, and colours each by its match class once scored. No panel: used by
 * <glomseg-overlay>, usable by a portal on its own.
 */
import type OlMap from 'ol/Map.js';
import Feature from 'ol/Feature.js';
import OlPolygon from 'ol/geom/Polygon.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import type { AnnotationFormat } from '@glomseg/shared/annotations.js';
import {
  fetchAnnotations,
  parseAnnotationText,
  readAnnotationFile,
  type LoadedAnnotations,
} from '../annotation-source.js';
import type { SlideFrame } from '../slide-frame.js';
import { annotationStyle } from '../feature-styles.js';
import type { TruthClass } from '../dice/live-dice-scorer.js';

export type AnnotationInput = { text: string } | { file: Blob } | { url: string };

export class AnnotationLayer {
  readonly source = new VectorSource<Feature<OlPolygon>>();
  readonly layer = new VectorLayer({
    source: this.source,
    style: annotationStyle,
    zIndex: 19,
    properties: { name: 'glomseg-annotations' },
  });
  loaded?: LoadedAnnotations;
  private map?: OlMap;
  private abort?: AbortController;
  private readonly onDragOver = (event: DragEvent) => {
    if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
  };
  private readonly onDrop = (event: DragEvent) => {
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    event.preventDefault();
    this.onFileDropped(file);
  };

  /** `onFileDropped`: a file was dropped on the map (the owner decides how to load it). */
  constructor(private readonly onFileDropped: (file: File) => void = () => {}) {}

  attach(map: OlMap): void {
    this.detach();
    this.map = map;
    map.addLayer(this.layer);
    map.getViewport()?.addEventListener('dragover', this.onDragOver);
    map.getViewport()?.addEventListener('drop', this.onDrop);
  }

  detach(): void {
    const map = this.map;
    if (!map) return;
    map.removeLayer(this.layer);
    map.getViewport()?.removeEventListener('dragover', this.onDragOver);
    map.getViewport()?.removeEventListener('drop', this.onDrop);
    this.map = undefined;
  }

  /**
   * Reads and draws annotations, replacing those shown; undefined when a later load or clear() overtook it.
   * `size` is the slide's (RLE CSV needs it); `frame` places them on the map.
   */
  async load(
    input: AnnotationInput,
    options: { format?: AnnotationFormat; name?: string },
    size: { width?: number; height?: number },
    frame: SlideFrame,
  ): Promise<LoadedAnnotations | undefined> {
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    const { signal } = abort;
    let loaded: LoadedAnnotations;
    try {
      loaded =
        'text' in input
          ? parseAnnotationText(input.text, { ...options, ...size })
          : 'file' in input
            ? await readAnnotationFile(input.file, { ...options, ...size, signal })
            : await fetchAnnotations(input.url, { ...options, ...size, signal });
    } catch (error) {
      if (signal.aborted) return undefined;
      throw error;
    }
    if (signal.aborted) return undefined;
    this.loaded = loaded;
    this.place(frame);
    return loaded;
  }

  /** Draws the loaded annotations in this frame (again, once the slide's height is known for a bottom-left origin). */
  place(frame: SlideFrame): void {
    this.source.clear();
    if (!this.loaded) return;
    this.source.addFeatures(
      this.loaded.polygons.map((polygon, i) => {
        const feature = new Feature({
          geometry: new OlPolygon([frame.ringToMap(polygon.exterior), ...polygon.holes.map((h) => frame.ringToMap(h))]),
        });
        feature.setId(`a${i}`);
        return feature;
      }),
    );
  }

  classify(truthClasses: readonly TruthClass[]): void {
    truthClasses.forEach((cls, i) => this.source.getFeatureById(`a${i}`)?.set('class', cls, true));
    this.source.changed();
  }

  clear(): void {
    this.abort?.abort();
    this.loaded = undefined;
    this.source.clear();
  }
}
