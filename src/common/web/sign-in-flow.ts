// The three steps of a browser sign-in by OpenID Connect, apart from any HTTP framework: the FHIR
// server's routes (fastify) and the BPE view (node:http) answer with what these return.
import { LOGIN_COOKIE, LOGIN_TTL_S, SESSION_COOKIE, type OidcLogin } from './oidc-login.ts';
import { cookieValue, safeReturn, secureCookie } from './cookies.ts';

/** GET <view>/login: where to send the browser, and the cookie that remembers the sign-in. */
export async function beginSignIn(login: OidcLogin, redirectUri: string, returnTo: string | null, cookiePath: string): Promise<{ location: string; setCookie: string }> {
  const started = await login.start(redirectUri, safeReturn(returnTo));
  return { location: started.location, setCookie: secureCookie(LOGIN_COOKIE, started.cookie, cookiePath, LOGIN_TTL_S) };
}

/** GET <view>/login/callback: the session cookie (and the sign-in cookie removed), and the path to return to below the view (may be ''). */
export async function completeSignIn(login: OidcLogin, cookieHeader: string | undefined, query: URLSearchParams, redirectUri: string, cookiePath: string): Promise<{ returnTo: string; setCookie: string[] }> {
  const done = await login.finish(cookieValue(cookieHeader, LOGIN_COOKIE), query, redirectUri);
  return {
    returnTo: safeReturn(done.returnTo),
    setCookie: [secureCookie(SESSION_COOKIE, done.session, cookiePath, Math.floor(login.sessionTimeoutMs / 1000)), secureCookie(LOGIN_COOKIE, '', cookiePath, 0)],
  };
}

/** GET <view>/logout: the Set-Cookie value that removes the session from the browser. */
export function signOutCookie(cookiePath: string): string {
  return secureCookie(SESSION_COOKIE, '', cookiePath, 0);
}
