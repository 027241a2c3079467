import { css, html, nothing } from 'lit';
import { panelText } from '../../internal/text.styles.js';
import { property, query } from 'lit/decorators.js';
import { GlomsegElement } from '../../internal/glomseg-element.js';
import { glomsegEvent } from '../../events.js';
import { errorNotice } from '../../internal/notice.styles.js';

/**
 * A sign-in form for a glomseg server that wants a bearer token: one password field and a button. It only asks;
 * whoever shows it (the viewer) tries the token and keeps it, and sets `message` when the server refuses it.
 *
 * @property server - The server's address, shown so the user knows which token to enter.
 * @property message - Why the last token was refused, shown under the field.
 *
 * @event glomseg-sign-in - The user entered a token (detail: { token }).
 *
 * @csspart form - The sign-in form.
 * @csspart token - The token field.
 * @csspart submit - The sign-in button.
 * @csspart message - Why the last token was refused.
 */
export default class GlomsegSignIn extends GlomsegElement {
  static override styles = css`
    :host {
      display: block;
      ${panelText}
    }
    [part='form'] {
      display: grid;
      gap: 8px;
      width: min(360px, 90vw);
      padding: 16px;
      background: #17181a;
      border: 1px solid #3c4043;
      border-radius: 6px;
    }
    h2 {
      margin: 0;
      font-size: 15px;
    }
    p {
      margin: 0;
      color: #bdc1c6;
      overflow-wrap: anywhere;
    }
    [part='token'] {
      font: inherit;
      padding: 4px 6px;
      color: inherit;
      background: #121212;
      border: 1px solid #5f6368;
      border-radius: 4px;
    }
    [part='submit'] {
      justify-self: start;
      font: inherit;
      padding: 4px 12px;
      cursor: pointer;
    }
    [part='message'] {
      ${errorNotice}
    }
  `;

  @property() server = '';
  @property() message = '';

  @query('[part=token]') private tokenInput!: HTMLInputElement;

  /** Puts the cursor in the token field. */
  override focus(): void {
    this.tokenInput?.focus();
  }

  private submit(event: SubmitEvent): void {
    event.preventDefault();
    const token = this.tokenInput.value.trim();
    if (!token) return;
    this.tokenInput.value = '';
    this.dispatchEvent(glomsegEvent('glomseg-sign-in', { token }));
  }

  protected override render() {
    return html`<form part="form" aria-label="Sign in" @submit=${this.submit}>
      <h2>Sign in</h2>
      <p>
        The glomseg server${this.server ? html` at <b>${this.server}</b>` : nothing} needs an access token. Ask its
        operator for one. It is kept in this browser tab only, until you sign out or close the tab.
      </p>
      <input
        part="token"
        type="password"
        name="token"
        autocomplete="off"
        aria-label="Access token"
        placeholder="Access token"
        required
      />
      ${this.message ? html`<div part="message" role="alert">${this.message}</div>` : nothing}
      <button part="submit" type="submit">Sign in</button>
    </form>`;
  }
}
