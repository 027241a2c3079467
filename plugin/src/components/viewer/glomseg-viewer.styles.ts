import { css, unsafeCSS } from 'lit';
import { panelText } from '../../internal/text.styles.js';
import olCss from 'ol/ol.css';
import { errorNotice, warningNotice } from '../../internal/notice.styles.js';

export const viewerStyles = [
  unsafeCSS(olCss),
  css`
    :host {
      display: block;
      position: relative;
      height: 100%;
      min-height: 400px;
    }
    [part='layout'] {
      display: grid;
      grid-template-columns: 300px 1fr;
      height: 100%;
      ${panelText}
      background: #121212;
    }
    [part='sidebar'] {
      overflow: auto;
      padding: 10px;
      display: flex;
      flex-direction: column;
      gap: 10px;
      border-right: 1px solid #3c4043;
      background: #17181a;
    }
    h2 {
      margin: 0;
      font-size: 15px;
    }
    h3 {
      margin: 0 0 4px;
      font-size: 12px;
      text-transform: uppercase;
      letter-spacing: 0.06em;
      color: #9aa0a6;
    }
    [part='slide-list'] {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: 2px;
    }
    [part='slide-list'] button {
      width: 100%;
      text-align: left;
      font: inherit;
      color: inherit;
      background: transparent;
      border: 1px solid transparent;
      border-radius: 4px;
      padding: 4px 6px;
      cursor: pointer;
    }
    [part='slide-list'] button:hover {
      border-color: #5f6368;
    }
    [part='slide-list'] button[aria-current='true'] {
      background: #0b3d5c;
      border-color: #00b4ff;
    }
    [part='slide-info'] {
      color: #bdc1c6;
      font-size: 12px;
    }
    [part='map-area'] {
      position: relative;
      min-width: 0;
      min-height: 0;
    }
    [part='map'] {
      position: absolute;
      inset: 0;
      background: #fff;
    }
    [part='cursor'] {
      position: absolute;
      left: 8px;
      bottom: 8px;
      background: rgba(0, 0, 0, 0.6);
      padding: 2px 6px;
      border-radius: 3px;
      font-variant-numeric: tabular-nums;
      pointer-events: none;
      min-height: 1em;
      white-space: nowrap;
    }
    /* OpenLayers places its read-out absolutely (top right of the map); here it flows inside the cursor box. */
    [part='cursor'] .ol-mouse-position {
      position: static;
    }
    [part='error'] {
      ${errorNotice}
      overflow-wrap: anywhere;
    }
    [part='map-error'] {
      ${errorNotice}
      position: absolute;
      top: 50%;
      left: 50%;
      transform: translate(-50%, -50%);
      max-width: min(480px, 80%);
      overflow-wrap: anywhere;
      font-size: 14px;
      box-shadow: 0 2px 12px rgba(0, 0, 0, 0.5);
    }
    [part='link-notice'] {
      ${warningNotice}
      overflow-wrap: anywhere;
    }
    /* The map tools over the map's top-right corner (OpenLayers' zoom buttons hold the top-left). */
    [part='map-tools'] {
      position: absolute;
      top: 8px;
      right: 8px;
    }
    .ol-scale-line {
      left: auto;
      right: 8px;
      bottom: 8px;
    }
    .ol-overviewmap {
      left: auto;
      right: 8px;
      bottom: 40px;
    }
    .ol-overviewmap .ol-overviewmap-map {
      width: 220px;
      height: 165px;
      background: #fff;
    }
    [part='sign-in-backdrop'] {
      position: absolute;
      inset: 0;
      z-index: 10;
      display: grid;
      place-items: center;
      background: #121212;
    }
    [part='sign-out'] {
      float: right;
      font:
        12px system-ui,
        sans-serif;
      cursor: pointer;
    }
    .muted {
      color: #9aa0a6;
    }
  `,
];
