/**
 * The corrections layer on the map and OpenLayers' interactions that edit it: Select (a prediction or a correction,
 * by click or tap), Modify (drag a selected outline's vertices), Draw (a missed glomerulus as a polygon; a reviewed
 * region as a box) and Snap (to predictions and corrections). It shows a state it is given and reports what the user
 * did; the edits themselves are corrections.ts's.
 */
import type OlMap from 'ol/Map.js';
import Feature from 'ol/Feature.js';
import type { Geometry } from 'ol/geom.js';
import OlPolygon from 'ol/geom/Polygon.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import Select from 'ol/interaction/Select.js';
import Modify from 'ol/interaction/Modify.js';
import Draw, { createBox } from 'ol/interaction/Draw.js';
import Snap from 'ol/interaction/Snap.js';
import type Interaction from 'ol/interaction/Interaction.js';
import type { Ring } from '@glomseg/shared/geometry.js';
import type { SlideFrame } from '../slide-frame.js';
import type { CorrectionsState, DeleteTarget } from './corrections.js';
import { correctionStyle } from './correction-styles.js';

/**
 * off: the map as usual; select: pick, accept, delete and reshape; draw: a missed glomerulus; region: a reviewed box;
 * area: a reviewed region drawn as a polygon.
 */
export type EditMode = 'off' | 'select' | 'draw' | 'region' | 'area';

export interface EditEvents {
  frame(): SlideFrame | undefined;
  onSelect(target: DeleteTarget | undefined): void;
  onReshape(itemId: string, ring: Ring): void;
  onReshapePrediction(predictionId: string, ring: Ring): void;
  onDraw(ring: Ring): void;
  onRegion(ring: Ring): void;
}

/** Touch needs a wider reach than a mouse pointer. */
const HIT_TOLERANCE = 8;

export class EditInteractions {
  readonly source = new VectorSource<Feature<Geometry>>();
  readonly layer = new VectorLayer({
    source: this.source,
    style: correctionStyle,
    properties: { name: 'glomseg-corrections' },
    zIndex: 20,
  });
  private map?: OlMap;
  private interactions: Interaction[] = [];
  private select?: Select;
  private draw?: Draw;
  mode: EditMode = 'off';

  constructor(
    private readonly predictions: VectorLayer<VectorSource<Feature<Geometry>>>,
    private readonly events: EditEvents,
  ) {}

  attach(map: OlMap): void {
    this.detach();
    this.map = map;
    map.addLayer(this.layer);
    this.setMode(this.mode);
  }

  detach(): void {
    this.removeInteractions();
    this.map?.removeLayer(this.layer);
    this.map = undefined;
  }

  /** Draws the state's corrections (the selection is dropped: its feature may be gone). */
  show(state: CorrectionsState): void {
    const frame = this.events.frame();
    this.select?.getFeatures().clear();
    this.events.onSelect(undefined);
    this.source.clear(true);
    if (!frame) return this.source.changed();
    this.source.addFeatures(
      state.items.map((item) => {
        const feature = new Feature({ geometry: new OlPolygon([frame.ringToMap(item.ring)]), kind: item.kind });
        feature.setId(item.id);
        return feature;
      }),
    );
  }

  setMode(mode: EditMode): void {
    this.mode = mode;
    this.removeInteractions();
    const map = this.map;
    if (!map || mode === 'off') return;
    this.interactions = mode === 'select' ? this.selectInteractions() : [this.drawInteraction(mode)];
    this.interactions.push(new Snap({ source: this.source }), new Snap({ source: this.predictions.getSource()! }));
    for (const interaction of this.interactions) map.addInteraction(interaction);
  }

  /** Drops a drawing under way, else the selection; false when there was neither. */
  cancel(): boolean {
    if (this.draw?.getOverlay().getSource()?.getFeatures().length) {
      this.draw.abortDrawing();
      return true;
    }
    const selected = this.select?.getFeatures();
    if (!selected?.getLength()) return false;
    selected.clear();
    this.events.onSelect(undefined);
    return true;
  }

  private ringOf(feature: Feature<Geometry>): Ring | undefined {
    const frame = this.events.frame();
    const geometry = feature.getGeometry();
    if (!frame || !(geometry instanceof OlPolygon)) return undefined;
    return geometry
      .getCoordinates()[0]
      .slice(0, -1)
      .map((coordinate) => frame.toSlide(coordinate));
  }

  private targetOf(feature: Feature<Geometry>): DeleteTarget | undefined {
    const id = String(feature.getId());
    if (this.source.hasFeature(feature)) return { itemId: id };
    const ring = this.ringOf(feature);
    return ring && { predictionId: id, ring };
  }

  private selectInteractions(): Interaction[] {
    const select = new Select({
      layers: [this.predictions, this.layer],
      hitTolerance: HIT_TOLERANCE,
      filter: (feature) => !feature.get('stale'),
    });
    select.on('select', () => {
      const feature = select.getFeatures().item(0) as Feature<Geometry> | undefined;
      this.events.onSelect(feature && this.targetOf(feature));
    });
    const modify = new Modify({ features: select.getFeatures(), pixelTolerance: HIT_TOLERANCE });
    const before = new Map<Feature<Geometry>, Geometry>();
    modify.on('modifystart', (event) =>
      event.features.forEach((f) =>
        before.set(f as Feature<Geometry>, (f as Feature<Geometry>).getGeometry()!.clone()),
      ),
    );
    modify.on('modifyend', (event) => {
      event.features.forEach((f) => this.reshaped(f as Feature<Geometry>, before.get(f as Feature<Geometry>)));
      before.clear();
    });
    this.select = select;
    return [select, modify];
  }

  /** A prediction keeps its outline (it is the model's); the person's outline becomes a correction. */
  private reshaped(feature: Feature<Geometry>, original: Geometry | undefined): void {
    const ring = this.ringOf(feature);
    if (!ring) return;
    const id = String(feature.getId());
    if (this.source.hasFeature(feature)) return this.events.onReshape(id, ring);
    if (original) feature.setGeometry(original);
    this.events.onReshapePrediction(id, ring);
  }

  private drawInteraction(mode: 'draw' | 'region' | 'area'): Draw {
    const draw =
      mode === 'region' ? new Draw({ type: 'Circle', geometryFunction: createBox() }) : new Draw({ type: 'Polygon' });
    draw.on('drawend', (event) => {
      const ring = this.ringOf(event.feature as Feature<Geometry>);
      if (ring && ring.length >= 3) (mode === 'draw' ? this.events.onDraw : this.events.onRegion)(ring);
    });
    this.draw = draw;
    return draw;
  }

  private removeInteractions(): void {
    for (const interaction of this.interactions) this.map?.removeInteraction(interaction);
    this.interactions = [];
    this.select = undefined;
    this.draw = undefined;
  }
}
