// Cookie helpers shared by the browser sign-in of the FHIR pages and of the BPE view.

/** A cookie's value from a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** A Set-Cookie value the page's scripts cannot read, sent only over HTTPS and not on cross-site posts; Max-Age 0 removes it. */
export function secureCookie(name: string, value: string, path: string, maxAgeS: number): string {
  return `${name}=${value}; Path=${path}; Max-Age=${maxAgeS}; HttpOnly; Secure; SameSite=Lax`;
}

/** Where to return after sign-in: a path below the base URL, nothing that could leave this site. */
export function safeReturn(value: string | null | undefined): string {
  const v = (value ?? '').replace(/^\/+/, '');
  return /^[A-Za-z0-9_$?=&%.,:|+/-]{0,1000}$/.test(v) && !v.includes('//') ? v : '';
}
