/**
 * The viewer's map tools as it renders them: the toolbar and heatmap scale over the map with the keyboard help, and
 * the glomerulus table in the sidebar. The state and what the tools do are MapToolsController's.
 */
import { html } from 'lit';
import type { GlomsegGlomerulusSelectEvent, GlomsegMapToolEvent } from '../../events.js';
import type { MapToolsController } from '../../controllers/map-tools-controller.js';
import type { Shortcut } from '../../controllers/keyboard-shortcuts-controller.js';

/** Over the map: the toolbar (and heatmap scale), and the keyboard help dialog (listing `more` keys too: editing's). */
export function mapToolsTemplate(tools: MapToolsController, more: readonly Shortcut[] = []) {
  const apply = (event: GlomsegMapToolEvent) => tools.apply(event.detail);
  return html`<glomseg-map-tools
      part="map-tools"
      ?outline=${tools.outline}
      ?heatmap=${tools.heatmap}
      .heatmapOpacity=${tools.heatmapOpacity}
      ?ruler=${tools.ruler.active}
      .measurements=${tools.ruler.source.getFeatures().length}
      @glomseg-map-tool=${apply}
    ></glomseg-map-tools>
    <glomseg-shortcut-help
      part="shortcut-help"
      ?open=${tools.help}
      .shortcuts=${[...tools.shortcuts, ...more]}
      @glomseg-map-tool=${apply}
    ></glomseg-shortcut-help>`;
}

/** In the sidebar: the glomeruli as report.html tables them; a row chosen zooms the map to it. */
export function glomeruliTemplate(tools: MapToolsController, slideName: string) {
  return html`<glomseg-glomerulus-table
    part="glomeruli"
    slide-name=${slideName}
    .rows=${tools.rows}
    @glomseg-glomerulus-select=${(event: GlomsegGlomerulusSelectEvent) => tools.zoomTo(event.detail.extent)}
  ></glomseg-glomerulus-table>`;
}
