import { css } from 'lit';
import { panelText } from '../../internal/text.styles.js';
import { errorNotice, warningNotice } from '../../internal/notice.styles.js';

export const overlayStyles = css`
  :host {
    display: block;
    ${panelText}
    --glomseg-panel-background: #202124;
    --glomseg-accent: #00b4ff;
  }
  :host([hidden]) {
    display: none;
  }
  [part='panel'] {
    background: var(--glomseg-panel-background);
    padding: 10px 12px;
    border-radius: 6px;
    display: grid;
    /* One column no wider than the panel: a long unbroken word (a file's header quoted in an error) wraps instead of
       widening the track and pushing the controls out of view. */
    grid-template-columns: minmax(0, 1fr);
    gap: 8px;
    overflow-wrap: anywhere;
  }
  h3 {
    margin: 0;
    font-size: 12px;
    text-transform: uppercase;
    letter-spacing: 0.06em;
    color: #9aa0a6;
  }
  /* The bar gets its own full-width row: beside a growing status text it shrank to a few pixels. */
  [part='status'] {
    display: grid;
    gap: 4px;
  }
  progress {
    width: 100%;
    height: 6px;
    accent-color: var(--glomseg-accent);
  }
  [part='scale-note'] {
    ${warningNotice}
  }
  /* Where the assumed scale is probably right: one plain line; its details open on demand. */
  [part='scale-note'].quiet {
    background: transparent;
    border-color: #5f6368;
    color: #bdc1c6;
  }
  [part='scale-note'].quiet summary {
    cursor: pointer;
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  [part='pixel-size'] input {
    width: 6em;
    font: inherit;
  }
  [part='error'] {
    ${errorNotice}
    white-space: pre-wrap;
    overflow-wrap: anywhere;
    max-width: 100%;
    box-sizing: border-box;
  }
  label {
    display: flex;
    align-items: center;
    gap: 6px;
  }
  label input[type='range'] {
    flex: 1;
  }
  button {
    font: inherit;
    background: #3c4043;
    color: inherit;
    border: 1px solid #5f6368;
    border-radius: 4px;
    padding: 3px 8px;
    cursor: pointer;
  }
  button:hover {
    border-color: var(--glomseg-accent);
  }
  button[disabled] {
    opacity: 0.5;
    cursor: default;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  td {
    padding: 1px 4px;
  }
  td:last-child {
    text-align: right;
    font-variant-numeric: tabular-nums;
    /* A figure is one word: the panel's overflow-wrap: anywhere let a narrow cell break 0.899 into 0.8 / 99. */
    white-space: nowrap;
    overflow-wrap: normal;
  }
  .legend {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 3px;
    font-size: 12px;
  }
  .swatch {
    display: inline-block;
    box-sizing: border-box;
    width: 14px;
    height: 12px;
    border-radius: 2px;
    margin-right: 6px;
    vertical-align: -2px;
  }
  [part='annotations-warning'] {
    ${warningNotice}
  }
  .muted {
    color: #9aa0a6;
  }
  .row {
    display: flex;
    gap: 6px;
    flex-wrap: wrap;
    align-items: center;
  }
`;
