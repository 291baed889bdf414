// Browser requests that change state come only from this site's pages (start-process form, user-task
// form, sign-out). Checked: every non-GET request that carries the session cookie, and every one with a
// content type an HTML form of another site can send. With sign-in configured, a change that carries the
// session cookie must also carry the session's CSRF token (csrf-token.ts: the pages' script sends it as
// a header, their forms as a field), so a forged request fails even where the origin check cannot tell. The REST API's own clients (certificate or bearer
// token, JSON/XML bodies) are unchanged: a foreign page cannot send those types without a CORS preflight,
// which this server never grants.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FhirError } from '../../common/errors.ts';
import { cookieValue } from '../../common/web/cookies.ts';
import { SESSION_COOKIE } from '../../common/web/oidc-login.ts';
import { changesState, crossSiteRefusal, isFormContentType, ownOrigins } from '../../common/web/same-origin.ts';
import { csrfTokenOf, type CsrfTokens } from '../../common/web/csrf-token.ts';

/** A fastify hook in callback form: no promise per request for a check that is synchronous. */
type CallbackHook = (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;

/** The refusal (403) of a cross-site request that changes state, or undefined; synchronous, run first in the server's onRequest hook. */
export function crossSiteGuard(baseUrl: string): (req: FastifyRequest) => FhirError | undefined {
  return (req) => {
    if (!changesState(req.method)) return undefined;
    const session = cookieValue(req.headers.cookie, SESSION_COOKIE) !== undefined;
    if (!session && !isFormContentType(req.headers['content-type'])) return undefined;
    const refusal = crossSiteRefusal(req.headers, ownOrigins(baseUrl, req.headers.host), session);
    return refusal ? new FhirError(403, `Refused ${refusal}: changes are accepted only from this server's own pages`, 'forbidden') : undefined;
  };
}

/**
 * The CSRF token check, once the body is read (a form's field is in it): every state-changing request
 * with the session cookie. Clients without the cookie (certificates, bearer tokens) are not affected.
 */
export function csrfGuard(tokens: CsrfTokens): CallbackHook {
  return (req, _reply, done) => {
    if (!changesState(req.method)) return done();
    const session = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (session === undefined) return done();
    const token = csrfTokenOf(req.headers, typeof req.body === 'string' ? req.body : undefined);
    if (tokens.matches(session, token)) return done();
    done(new FhirError(403, `Refused a change ${token ? 'with a wrong' : 'without the'} CSRF token of the session: changes are accepted only from this server's own pages`, 'forbidden'));
  };
}
