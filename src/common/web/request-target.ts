// The path and query of a request to an HTML view, checked before any route sees them: a remote client
// may send invalid percent-encoding, encoded NUL or control characters, or thousands of parameters.
// `new URL()` would accept most of that silently (or read `//host/...` as a host), so the target is
// split by hand and every component must decode to text without control characters.

/** More query parameters than any page of the views uses, by far; more are refused, not parsed. */
export const MAX_QUERY_PARAMETERS = 100;

export interface RequestTarget {
  /** The raw (still percent-encoded) path without a trailing slash. */
  path: string;
  /** The raw query string with its leading '?', or '' */
  search: string;
  query: URLSearchParams;
}

export type RequestTargetResult = { ok: true; target: RequestTarget } | { ok: false; problem: string };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** True when the text percent-decodes to valid UTF-8 without control characters. */
function clean(component: string): boolean {
  try {
    return !CONTROL.test(decodeURIComponent(component));
  } catch {
    return false;
  }
}

export function parseRequestTarget(url: string | undefined): RequestTargetResult {
  let target = url ?? '/';
  // The absolute form (sent to proxies) names the path after the authority.
  const absolute = /^https?:\/\/[^/?#]*/i.exec(target);
  if (absolute) target = target.slice(absolute[0].length) || '/';
  if (!target.startsWith('/') || target.startsWith('//')) return { ok: false, problem: 'The request target is not a path.' };
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const rawQuery = q >= 0 ? target.slice(q + 1) : '';
  if (!clean(rawPath)) return { ok: false, problem: 'The path has invalid percent-encoding, invalid UTF-8 or control characters.' };
  const pairs = rawQuery ? rawQuery.split('&') : [];
  if (pairs.length > MAX_QUERY_PARAMETERS) return { ok: false, problem: `More than ${MAX_QUERY_PARAMETERS} query parameters.` };
  for (const pair of pairs) {
    if (!clean(pair.replaceAll('+', ' '))) return { ok: false, problem: 'A query parameter has invalid percent-encoding, invalid UTF-8 or control characters.' };
  }
  return { ok: true, target: { path: rawPath.replace(/\/+$/, ''), search: rawQuery ? `?${rawQuery}` : '', query: new URLSearchParams(rawQuery) } };
}
