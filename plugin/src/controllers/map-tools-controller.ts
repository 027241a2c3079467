/**
 * The viewer's map tools and their keys: outline-only display, the probability heatmap and its opacity, the ruler,
 * a PNG snapshot of the view, the glomerulus table (its rows kept from the map's prediction and annotation layers
 * as tiles and scores arrive) and the keyboard help. One registry of shortcuts serves the keys and the `?` help.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type OlMap from 'ol/Map.js';
import type VectorLayer from 'ol/layer/Vector.js';
import { glomsegEvent, type MapToolInput } from '../events.js';
import { RulerTool } from '../tools/ruler-tool.js';
import { downloadBlob, mapSnapshot } from '../tools/map-snapshot.js';
import { glomerulusRows, type ViewerGlomerulusRow } from '../glomerulus-rows.js';
import type { Shortcut } from './keyboard-shortcuts-controller.js';

export interface MapToolsContext {
  map(): OlMap | undefined;
  /** Level-0 µm/px when known (the file's, else the one the model assumes). */
  mpp(): number | undefined;
  /** Names the saved files. */
  slideName(): string;
  /** Moves the focus to the glomerulus table. */
  focusTable(): void;
}

/** Where the overlay's layers are found on the map (their `name` property). */
const PREDICTIONS = 'glomseg-predictions';
const ANNOTATIONS = 'glomseg-annotations';

export class MapToolsController implements ReactiveController {
  outline = false;
  heatmap = false;
  heatmapOpacity = 0.7;
  help = false;
  rows: ViewerGlomerulusRow[] = [];
  readonly ruler: RulerTool;
  readonly shortcuts: readonly Shortcut[];
  private frame?: number;
  /** The slide the ruler's lines and the table's rows belong to. */
  private slideShown = '';
  private readonly onChange = () => this.scheduleRows();

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly context: MapToolsContext,
  ) {
    this.ruler = new RulerTool(context.mpp, (detail) => {
      host.dispatchEvent(glomsegEvent('glomseg-measure', detail));
      host.requestUpdate();
    });
    this.shortcuts = this.makeShortcuts();
    host.addController(this);
  }

  hostConnected(): void {
    for (const type of ['glomseg-progress', 'glomseg-dice', 'glomseg-tile'])
      this.host.addEventListener(type, this.onChange);
  }

  hostDisconnected(): void {
    for (const type of ['glomseg-progress', 'glomseg-dice', 'glomseg-tile'])
      this.host.removeEventListener(type, this.onChange);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.ruler.detach();
  }

  /** Another slide: the lines measured and the rows were the previous slide's. */
  hostUpdated(): void {
    const slide = this.context.slideName();
    if (slide === this.slideShown) return;
    this.slideShown = slide;
    this.ruler.clear();
    this.scheduleRows();
  }

  /** What the toolbar, the help or a key asked for. */
  apply(input: MapToolInput): void {
    const map = this.context.map();
    switch (input.name) {
      case 'outline':
      case 'heatmap':
      case 'help':
        this[input.name] = input.value;
        break;
      case 'heatmapOpacity':
        this.heatmapOpacity = input.value;
        break;
      case 'ruler':
        if (input.value && map) this.ruler.activate(map);
        else this.ruler.deactivate();
        break;
      case 'clearMeasurements':
        this.ruler.clear();
        break;
      case 'snapshot':
        void this.snapshot();
        break;
    }
    this.host.requestUpdate();
  }

  /** Saves the view (slide, predictions, heatmap, annotations, ruler) as `<slide>-view.png`. */
  async snapshot(): Promise<void> {
    const map = this.context.map();
    if (!map) return;
    downloadBlob(await mapSnapshot(map), `${this.context.slideName()}-view.png`);
  }

  /** Shows a glomerulus from the table: the view fits it, with a margin. */
  zoomTo(extent: number[]): void {
    this.context
      .map()
      ?.getView()
      .fit(extent, { padding: [120, 120, 120, 120], duration: 250 });
  }

  /** The table's rows again, at most once a frame. */
  scheduleRows(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      this.rows = this.readRows();
      this.host.requestUpdate();
    });
  }

  private readRows(): ViewerGlomerulusRow[] {
    const layers = this.context.map()?.getAllLayers() ?? [];
    const features = (name: string) =>
      (layers.find((layer) => layer.get('name') === name) as VectorLayer | undefined)?.getSource()?.getFeatures() ?? [];
    return glomerulusRows(features(PREDICTIONS), features(ANNOTATIONS), this.context.mpp());
  }

  private toggle(name: 'outline' | 'heatmap' | 'help'): void {
    this.apply({ name, value: !this[name] });
  }

  private makeShortcuts(): Shortcut[] {
    // The ruler's keys mean something only while it measures.
    const ruler = (key: string) => () => {
      if (!this.ruler.handleKey(key)) return false;
      if (key === 'Escape') this.apply({ name: 'ruler', value: false });
    };
    return [
      { keys: ['?'], description: 'Show or hide these shortcuts', run: () => this.toggle('help') },
      { keys: ['o'], description: 'Outline only: predictions without fill', run: () => this.toggle('outline') },
      { keys: ['h'], description: 'Probability heatmap on or off', run: () => this.toggle('heatmap') },
      {
        keys: ['r'],
        description: 'Ruler on or off: click points on the map',
        run: () => this.apply({ name: 'ruler', value: !this.ruler.active }),
      },
      { keys: ['Enter'], description: 'Ruler: finish the line', run: ruler('Enter') },
      { keys: ['Backspace'], description: 'Ruler: take back the last point', run: ruler('Backspace') },
      {
        keys: ['Escape'],
        description: 'Ruler: drop the line and stop measuring; close this help',
        run: ruler('Escape'),
      },
      { keys: ['s'], description: 'Save the view as PNG', run: () => this.apply({ name: 'snapshot' }) },
      {
        keys: ['g'],
        description: 'Go to the glomerulus table (arrows move, Enter zooms to one)',
        run: () => this.context.focusTable(),
      },
      { keys: ['+', '-'], description: 'Zoom in or out (the map focused: click it or Tab to it)' },
      { keys: ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight'], description: 'Pan (the map focused)' },
    ];
  }
}
