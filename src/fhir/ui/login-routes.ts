// Browser sign-in by OpenID Connect: GET <base>/login starts the authorization-code flow,
// <base>/login/callback completes it and sets the session cookie, POST <base>/logout (a form button with
// the session's CSRF token; cross-site posts are refused by cross-site-guard.ts) ends the session; GET <base>/logout only offers that button.
// These routes need no identity (fhir-server.ts lets them through); every other route then accepts the
// session cookie like a certificate of a local user.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { FhirError } from '../../common/errors.ts';
import { LoginError, SESSION_COOKIE, type OidcLogin } from '../../common/web/oidc-login.ts';
import { cookieValue } from '../../common/web/cookies.ts';
import { beginSignIn, completeSignIn, signOutCookie } from '../../common/web/sign-in-flow.ts';
import { html } from '../../common/web/html.ts';
import { layout } from './page-layout.ts';
import { postButton } from '../../common/web/same-origin.ts';
import type { UiSite } from './ui-context.ts';

export const LOGIN_PATHS = ['/login', '/login/callback', '/logout'];

export function registerLoginRoutes(app: FastifyInstance, site: UiSite, login: OidcLogin): void {
  const basePath = new URL(site.baseUrl).pathname.replace(/\/$/, '') || '/';
  const redirectUri = `${site.baseUrl}/login/callback`;
  const fail = (e: unknown): never => {
    if (e instanceof LoginError) throw new FhirError(401, e.message, 'login');
    throw e;
  };

  app.get('/login', async (req, reply: FastifyReply) => {
    const started = await beginSignIn(login, redirectUri, new URL(req.url, 'https://x').searchParams.get('return'), basePath).catch(fail);
    return reply.header('set-cookie', started.setCookie).header('cache-control', 'no-store').redirect(started.location, 302);
  });

  app.get('/login/callback', async (req, reply) => {
    const done = await completeSignIn(login, req.headers.cookie, new URL(req.url, 'https://x').searchParams, redirectUri, basePath).catch(fail);
    return reply
      .header('set-cookie', done.setCookie)
      .header('cache-control', 'no-store')
      .redirect(`${site.baseUrl}/${done.returnTo || 'Task?status=draft'}`, 302);
  });

  app.get('/logout', async (req, reply) => {
    const session = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const csrfToken = session ? login.csrf.forSession(session) : undefined;
    const page = layout({ site, formatParam: false, path: 'logout', csrfToken }, 'Sign out', html`<h1>Sign out</h1><p>${postButton(`${site.baseUrl}/logout`, 'Sign out', 'primary', csrfToken)}</p>`);
    return reply.header('cache-control', 'no-store').type('text/html;charset=UTF-8').send(page.value);
  });

  app.post('/logout', async (_req, reply) => {
    const page = layout({ site, formatParam: false, path: 'logout' }, 'Signed out', html`<h1>Signed out</h1><p>Your session at this site has ended.</p><p><a class="button primary" href="${site.baseUrl}/login">Sign in again</a></p>`);
    return reply.header('set-cookie', signOutCookie(basePath)).header('cache-control', 'no-store').type('text/html;charset=UTF-8').send(page.value);
  });
}
