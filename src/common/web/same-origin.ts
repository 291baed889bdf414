// Browser requests that change state must come from the site's own pages. A page on another site can
// make the browser post a form here, and the browser adds its client certificate and (for top-level
// navigations under SameSite=Lax, or in older browsers) the session cookie: the request's Origin (or,
// without it, Sec-Fetch-Site) tells where it came from. Non-browser clients send neither header.
import type { IncomingHttpHeaders } from 'node:http';
import { html, type SafeHtml } from './html.ts';
import { csrfField } from './csrf-token.ts';

/** Methods that read only; every other method may change state. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Content types an HTML form (or a no-preflight fetch) of any site may send: application/x-www-form-urlencoded, multipart/form-data, text/plain. */
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

export const changesState = (method: string | undefined): boolean => !SAFE_METHODS.has((method ?? 'GET').toUpperCase());

export function isFormContentType(contentType: string | undefined): boolean {
  return FORM_TYPES.has((contentType ?? '').split(';')[0]!.trim().toLowerCase());
}

/** The origins of this site: that of its external URL and, as the browser addressed it, https://<Host>. */
export function ownOrigins(externalUrl: string, host: string | undefined): string[] {
  const origins = [new URL(externalUrl).origin];
  if (host) {
    try {
      origins.push(new URL(`https://${host}`).origin);
    } catch {
      // a malformed Host names no origin
    }
  }
  return origins;
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * Why the request is refused as cross-site, or undefined when it comes from `origins`. Without Origin
 * and Sec-Fetch-Site the request is a non-browser client's unless `browserOnly` (e.g. a request that
 * carries the session cookie, which only a browser holds).
 */
export function crossSiteRefusal(headers: IncomingHttpHeaders, origins: readonly string[], browserOnly: boolean): string | undefined {
  const origin = one(headers.origin);
  if (origin !== undefined) return origins.includes(origin) ? undefined : `a request from ${origin === 'null' ? 'an opaque origin' : origin}`;
  const fetchSite = one(headers['sec-fetch-site']);
  if (fetchSite !== undefined) return fetchSite === 'same-origin' ? undefined : `a ${fetchSite} request`;
  return browserOnly ? 'a browser request without Origin' : undefined;
}

/**
 * A form button that POSTs to `action` (sign-out and other changes are never links a GET could trigger),
 * with the session's CSRF token when the page has one.
 */
export function postButton(action: string, label: string, cls = '', csrfToken?: string): SafeHtml {
  return html`<form class="inline" method="post" action="${action}">${csrfField(csrfToken)}<button type="submit"${cls ? html` class="${cls}"` : ''}>${label}</button></form>`;
}
