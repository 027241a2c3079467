/**
 * The token a person enters in <glomseg-sign-in>, kept for the tab's session one per server, and whether the form
 * shows (and what it says). Its headers read the token at each request, so a token entered later needs no rewiring.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { bearerToken, type RequestHeaders } from '../glomseg-client.js';
import { readSessionToken, writeSessionToken } from '../auth/session-token.js';

export class SignInController implements ReactiveController {
  /** The token entered in the form (kept in sessionStorage). */
  token?: string;
  /** Shown while the server wants a token: '' or why the last one was refused; undefined: the form is closed. */
  message?: string;
  /** The token as the headers of every call and tile (one provider, read at each request). */
  readonly headers: RequestHeaders = bearerToken(() => this.token ?? '');

  constructor(
    private readonly host: ReactiveControllerHost,
    /** The server's base URL the token is kept for. */
    private readonly server: () => string,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.read();
  }

  /** Takes the token kept for the server (another server: its own, if any). */
  read(): void {
    this.set(readSessionToken(this.server()), this.message);
  }

  /** The server answered: keep the token for the session and close the form. */
  accepted(): void {
    if (this.token) writeSessionToken(this.server(), this.token);
    this.set(this.token, undefined);
  }

  /** The server wants a token: ask for one, saying why the one given (if any) was refused. */
  refused(reason: string): void {
    this.set(this.token, this.token ? `The server did not accept that token (${reason}).` : '');
    this.forget();
  }

  /** A token entered in the form. */
  enter(token: string): void {
    this.set(token, this.message);
  }

  /** Forgets the token; signing out opens the form again. */
  forget({ signOut = false } = {}): void {
    writeSessionToken(this.server(), undefined);
    this.set(undefined, signOut ? '' : this.message);
  }

  private set(token: string | undefined, message: string | undefined): void {
    if (token === this.token && message === this.message) return;
    this.token = token;
    this.message = message;
    this.host.requestUpdate();
  }
}
