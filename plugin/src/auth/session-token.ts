/**
 * The viewer's sign-in token, kept for the browser tab's session only (sessionStorage: gone when the tab closes,
 * never shared with another tab or profile, never in localStorage or the URL), one per server.
 */
const PREFIX = 'glomseg-token:';

function storage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    // Storage blocked (a sandboxed frame): the token lives as long as the page.
    return undefined;
  }
}

export function readSessionToken(baseUrl: string): string | undefined {
  return storage()?.getItem(PREFIX + baseUrl) ?? undefined;
}

export function writeSessionToken(baseUrl: string, token: string | undefined): void {
  if (token) storage()?.setItem(PREFIX + baseUrl, token);
  else storage()?.removeItem(PREFIX + baseUrl);
}
