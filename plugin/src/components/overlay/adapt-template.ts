/** The model picker and the Adapt button with its progress and result, in the overlay's corrections section. */
import { html, nothing } from 'lit';
import type { AdaptController } from '../../controllers/adapt-controller.js';

const percent = (value: number) => `${(100 * value).toFixed(1)} %`;

function progressTemplate(adapter: AdaptController) {
  const p = adapter.progress;
  if (!adapter.busy || !p) return adapter.busy ? html`<div part="adapt-progress">Starting…</div>` : nothing;
  const eta = p.etaSeconds !== undefined ? ` · about ${Math.ceil(p.etaSeconds / 60)} min left` : '';
  const loss = p.loss !== undefined ? ` · loss ${p.loss.toFixed(3)}` : '';
  return html`<div part="adapt-progress" data-phase=${p.phase}>
    ${p.phase} ${p.steps ? `${p.step} / ${p.steps}` : ''}${loss}${eta}
    <progress max=${p.steps || 1} value=${p.step}></progress>
  </div>`;
}

function resultTemplate(adapter: AdaptController) {
  const r = adapter.result;
  if (adapter.error) return html`<div part="adapt-error" role="alert">${adapter.error}</div>`;
  if (!r) return nothing;
  return html`<div part="adapt-result" data-model=${r.model.id}>
    New version ${r.model.id}: held-out Dice ${percent(r.before.meanImageDice)} → ${percent(r.after.meanImageDice)}, F1
    ${percent(r.before.f1)} → ${percent(r.after.f1)} (${r.trainedRegions} regions trained, ${r.heldOutRegions} held
    out)
  </div>`;
}

export function adaptTemplate(adapter: AdaptController, model: string, pick: (id: string) => void) {
  const current = model || adapter.models.find((m) => m.isDefault)?.id || '';
  return html`
    <div class="row">
      <label>
        Model
        <select
          part="model-picker"
          @focus=${() => void adapter.refreshModels()}
          @change=${(event: Event) => pick((event.target as HTMLSelectElement).value)}
        >
          ${adapter.models.map(
            (m) =>
              html`<option value=${m.id} ?selected=${m.id === current}>${m.name} · ${m.id}${m.isDefault ? ' (default)' : ''}</option>`,
          )}
        </select>
      </label>
      <button part="adapt" ?disabled=${adapter.busy} @click=${() => void adapter.adapt()}>
        ${adapter.busy ? 'Adapting…' : 'Adapt model'}
      </button>
      ${adapter.busy ? html`<button data-action="cancel-adapt" @click=${() => adapter.cancel()}>Cancel</button>` : nothing}
    </div>
    ${progressTemplate(adapter)} ${resultTemplate(adapter)}
  `;
}
