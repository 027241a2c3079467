import { css, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { glomerulusCsv } from '@glomseg/shared/glomerulus-table.js';
import { GlomsegElement } from '../../internal/glomseg-element.js';
import { glomsegEvent } from '../../events.js';
import { downloadBlob } from '../../tools/map-snapshot.js';
import type { ViewerGlomerulusRow } from '../../glomerulus-rows.js';

type SortKey = 'id' | 'areaPx' | 'meanProbability' | 'status';

const COLUMNS: ReadonlyArray<{ key: SortKey; label: string }> = [
  { key: 'id', label: 'id' },
  { key: 'areaPx', label: 'area µm²' },
  { key: 'meanProbability', label: 'mean p' },
  { key: 'status', label: 'status' },
];

const STATUS_WORDS: Record<ViewerGlomerulusRow['status'], string> = {
  TP: 'true positive',
  FP: 'false positive',
  FN: 'missed',
  '—': 'not scored',
};

/** Ids in their natural order (G2 before G10; G before M). */
const byId = (a: ViewerGlomerulusRow, b: ViewerGlomerulusRow) =>
  a.id[0].localeCompare(b.id[0]) || Number(a.id.slice(1)) - Number(b.id.slice(1));

/**
 * The glomeruli on the slide as report.html tables them: id, area (µm², else px²), mean probability and match status
 * (true positive, false positive, missed; '—' before it is scored), sortable by each column, with its CSV. A row
 * clicked (or Enter on it) asks to be shown: `glomseg-glomerulus-select`.
 *
 * @property rows - The rows (set as a property).
 * @property slideName - Names the CSV file.
 *
 * @event glomseg-glomerulus-select - The user chose a glomerulus (detail: GlomerulusSelectEventDetail).
 *
 * @csspart table - The table's scroll box.
 * @csspart row - Each glomerulus's row (data-id, data-status).
 * @csspart csv - Downloads the rows as CSV.
 */
export default class GlomsegGlomerulusTable extends GlomsegElement {
  static override styles = css`
    :host {
      display: block;
      font-size: 12px;
    }
    summary {
      cursor: pointer;
      color: #9aa0a6;
      text-transform: uppercase;
      letter-spacing: 0.06em;
    }
    [part='table'] {
      max-height: var(--glomseg-table-height, 220px);
      overflow: auto;
      margin-top: 4px;
    }
    table {
      width: 100%;
      border-collapse: collapse;
      font-variant-numeric: tabular-nums;
    }
    th {
      position: sticky;
      top: 0;
      background: #17181a;
      text-align: left;
    }
    th button {
      font: inherit;
      color: inherit;
      background: none;
      border: 0;
      padding: 2px 4px;
      cursor: pointer;
    }
    td {
      padding: 1px 4px;
    }
    [part='row'] {
      cursor: pointer;
    }
    [part='row']:hover,
    [part='row']:focus {
      background: #0b3d5c;
      outline: none;
    }
    .status-FP {
      color: #ffb000;
    }
    .status-FN {
      color: #ff5ccd;
    }
    .status-TP {
      color: #8ab4f8;
    }
    [part='csv'] {
      font: inherit;
      margin-left: 6px;
      cursor: pointer;
    }
  `;

  @property({ attribute: false }) rows: readonly ViewerGlomerulusRow[] = [];
  @property({ attribute: 'slide-name' }) slideName = 'slide';

  @state() private sortKey: SortKey = 'id';
  @state() private descending = false;

  /** Moves the focus to the first row (the keyboard's way into the table), opening the table if it was folded. */
  focusFirstRow(): void {
    const details = this.renderRoot.querySelector('details');
    if (details) details.open = true;
    this.renderRoot.querySelector<HTMLElement>('[part=row]')?.focus();
  }

  private sorted(): ViewerGlomerulusRow[] {
    const key = this.sortKey;
    const rows = [...this.rows].sort((a, b) =>
      key === 'id'
        ? byId(a, b)
        : key === 'status'
          ? a.status.localeCompare(b.status) || byId(a, b)
          : (a[key] ?? -1) - (b[key] ?? -1) || byId(a, b),
    );
    return this.descending ? rows.reverse() : rows;
  }

  private sortBy(key: SortKey): void {
    this.descending = this.sortKey === key ? !this.descending : key !== 'id';
    this.sortKey = key;
  }

  private select(row: ViewerGlomerulusRow): void {
    this.dispatchEvent(glomsegEvent('glomseg-glomerulus-select', { id: row.id, extent: row.extent }));
  }

  private onRowKey(event: KeyboardEvent, row: ViewerGlomerulusRow): void {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.select(row);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const row = event.currentTarget as HTMLElement;
      const next = event.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling;
      (next as HTMLElement | null)?.focus();
    }
  }

  private downloadCsv(): void {
    downloadBlob(new Blob([glomerulusCsv(this.sorted())], { type: 'text/csv' }), `${this.slideName}-glomeruli.csv`);
  }

  protected override render() {
    const rows = this.sorted();
    return html`<details open>
      <summary>
        Glomeruli (${rows.length})
        ${rows.length > 0 ? html`<button part="csv" @click=${this.downloadCsv}>CSV</button>` : nothing}
      </summary>
      <div part="table">
        <table>
          <thead>
            <tr>
              ${COLUMNS.map(
                (column) =>
                  html`<th
                    aria-sort=${this.sortKey === column.key ? (this.descending ? 'descending' : 'ascending') : 'none'}
                  >
                    <button data-sort=${column.key} @click=${() => this.sortBy(column.key)}>${column.label}</button>
                  </th>`,
              )}
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (row) =>
                html`<tr
                  part="row"
                  tabindex="0"
                  data-id=${row.id}
                  data-status=${row.status}
                  @click=${() => this.select(row)}
                  @keydown=${(event: KeyboardEvent) => this.onRowKey(event, row)}
                >
                  <td>${row.id}</td>
                  <td>${row.areaUm2 === undefined ? `${Math.round(row.areaPx)} px²` : Math.round(row.areaUm2)}</td>
                  <td>${row.meanProbability === undefined ? '–' : row.meanProbability.toFixed(2)}</td>
                  <td class="status-${row.status === '—' ? 'none' : row.status}" title=${STATUS_WORDS[row.status]}>
                    ${row.status}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </details>`;
  }
}
