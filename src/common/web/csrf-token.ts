// A per-session token against cross-site request forgery, on top of the same-origin check: every
// state-changing request that carries the session cookie must also carry this token, which only the
// site's own pages know (a hidden field of each form, or the X-DSF-CSRF header of the pages' script).
// Sessions live in the browser only (encrypted cookies), so the token is bound to the session by
// deriving it: an HMAC of the session cookie's value under a key of its own (from the session key).
// A new sign-in is a new cookie value and so a new token; another site can read neither.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { html, type SafeHtml } from './html.ts';

export const CSRF_FIELD = 'dsf_csrf';
export const CSRF_HEADER = 'x-dsf-csrf';

export class CsrfTokens {
  constructor(private readonly key: Uint8Array) {}

  /** The token of the session whose cookie has this value. */
  forSession(sessionCookie: string): string {
    return createHmac('sha256', this.key).update(sessionCookie).digest('base64url');
  }

  matches(sessionCookie: string, token: string | undefined): boolean {
    if (!token) return false;
    const expected = Buffer.from(this.forSession(sessionCookie));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** The hidden form field that carries the token (nothing without one). */
export function csrfField(token: string | undefined): SafeHtml {
  return token ? html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">` : html``;
}

/** The token of a request: the header, else the field of a form-encoded body (given as text). */
export function csrfTokenOf(headers: IncomingHttpHeaders, formBody?: string): string | undefined {
  const header = headers[CSRF_HEADER];
  if (typeof header === 'string') return header;
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (formBody === undefined || type !== 'application/x-www-form-urlencoded') return undefined;
  return new URLSearchParams(formBody).get(CSRF_FIELD) ?? undefined;
}
