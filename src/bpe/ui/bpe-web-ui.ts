// The BPE's web view, served under <base> (e.g. /bpe/ui) by the BPE's HTTPS server. Only callers with
// the ADMIN role of DEV_DSF_BPE_SERVER_ROLECONFIG see it (as the reference's BPE UI): a client
// certificate matched by thumbprint or e-mail, or, when OpenID Connect sign-in is configured, a session
// (the FHIR pages' sign-in code) matched by e-mail, token-role or token-group. The server asks for a
// certificate but does not require one, so a browser without one gets the sign-in page, not a TLS error.
// Changes (cancel, retry, sign-out) are POSTs from this view's own pages only (Origin or Sec-Fetch-Site
// checked, src/common/web/same-origin.ts; with the session cookie also the session's CSRF token of the
// forms' hidden field, csrf-token.ts); cancel and retry are answered with a redirect to the instance page.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseCertificatePem, thumbprintSha512 } from '../../common/x509.ts';
import type { ProcessEngine, InstanceInfo } from '../engine/index.ts';
import type { PluginDeploymentResult } from '../plugins/plugin-manager.ts';
import type { BpeRoleConfig } from './bpe-role-config.ts';
import { INSTANCE_FILTERS, instancePage, instancesPage, messagePage, overviewPage, type BpePageSite, type InstanceFilter, type InstanceRow, type ProcessRow } from './bpe-pages.ts';
import { LoginError, SESSION_COOKIE, type OidcLogin } from '../../common/web/oidc-login.ts';
import { cookieValue, safeReturn } from '../../common/web/cookies.ts';
import { beginSignIn, completeSignIn, signOutCookie } from '../../common/web/sign-in-flow.ts';
import { html } from '../../common/web/html.ts';
import { tlsCertificate, type CertificateOf } from '../web/client-certificate.ts';
import { crossSiteRefusal, ownOrigins, postButton } from '../../common/web/same-origin.ts';
import { csrfTokenOf } from '../../common/web/csrf-token.ts';
import { parseRequestTarget } from '../../common/web/request-target.ts';
import { EngineError } from '../engine/index.ts';

export interface BpeWebUiOptions {
  engine: ProcessEngine;
  deployment: PluginDeploymentResult;
  /** The site's organisation identifier, shown in the header (a function: the BPE learns it from its FHIR server). */
  organization: string | (() => string);
  roles: BpeRoleConfig;
  /** Path the view is served under, e.g. /bpe/ui */
  base: string;
  fhirUiUrl?: string;
  /** Browser sign-in by OpenID Connect (DEV_DSF_SERVER_AUTH_OIDC_AUTHORIZATION_CODE_FLOW). */
  login?: OidcLogin;
  /** The view's external URL (its sign-in callback is <url>/login/callback); default https://<Host><base>. */
  url?: string;
  /** The caller's trusted client certificate (DER); default: the TLS handshake's (a reverse proxy's header: client-certificate.ts). */
  certificateOf?: CertificateOf;
  /** Where failures are logged, with their stack (BpeLogger fits). */
  log?: { error(message: string): void };
}

/** Who is looking: a client certificate or a sign-in session. */
interface Caller {
  name: string;
  admin: boolean;
  session: boolean;
}

/** A request handler: true when it answered the request (its path is under the base). The server has read the body of a POST (a form's fields). */
export type BpeWebUiHandler = (req: IncomingMessage, res: ServerResponse, body?: string) => Promise<boolean>;

const require = createRequire(import.meta.url);
const bpmnJsDist = (file: string) => require.resolve(`bpmn-js/dist/${file}`);
/** Files served under <base>/static: this view's script, the shared style sheet, bpmn-js from npm. */
const STATIC: Record<string, { path: () => string; type: string }> = {
  'bpe.js': { path: () => fileURLToPath(new URL('./static/bpe.js', import.meta.url)), type: 'text/javascript' },
  'ui.css': { path: () => fileURLToPath(new URL('../../common/web/ui.css', import.meta.url)), type: 'text/css' },
  'bpmn-viewer.js': { path: () => bpmnJsDist('bpmn-navigated-viewer.production.min.js'), type: 'text/javascript' },
  'diagram-js.css': { path: () => bpmnJsDist('assets/diagram-js.css'), type: 'text/css' },
  'bpmn-js.css': { path: () => bpmnJsDist('assets/bpmn-js.css'), type: 'text/css' },
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'text/html;charset=UTF-8', headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': type, ...SECURITY_HEADERS, ...headers }).end(body);
}

/** The instance's place in the view's filters: failed while it has an incident. */
function statusOf(i: InstanceInfo, failedInstances: Set<string>): InstanceRow['status'] {
  if (i.state === 'active') return failedInstances.has(i.id) ? 'failed' : 'running';
  return i.state === 'cancelled' ? 'cancelled' : 'finished';
}

function inFilter(status: InstanceRow['status'], filter: InstanceFilter | undefined): boolean {
  if (!filter) return true;
  return filter === 'finished' ? status === 'finished' || status === 'cancelled' : status === filter;
}

export function createBpeWebUi(opts: BpeWebUiOptions): BpeWebUiHandler {
  const base = opts.base.replace(/\/$/, '');
  const certificateOf = opts.certificateOf ?? tlsCertificate;
  const organization = typeof opts.organization === 'function' ? opts.organization : () => opts.organization as string;
  const staticCache = new Map<string, Buffer>();

  const caller = async (req: IncomingMessage): Promise<Caller | undefined> => {
    const raw = certificateOf(req);
    if (raw) {
      const info = parseCertificatePem(raw);
      const admin = opts.roles.isAdmin({ thumbprint: thumbprintSha512(raw), emails: info.email ? [info.email] : [] });
      return { name: info.commonName ?? info.email ?? 'certificate', admin, session: false };
    }
    const claims = opts.login && (await opts.login.session(cookieValue(req.headers.cookie, SESSION_COOKIE)));
    if (!claims || claims.expiresAt.getTime() <= Date.now()) return undefined;
    const admin = opts.roles.isAdmin({ emails: claims.emails, tokenRoles: claims.tokenRoles, tokenGroups: claims.tokenGroups });
    return { name: claims.emails[0] ?? claims.name, admin, session: true };
  };

  const viewUrl = (req: IncomingMessage) => (opts.url ?? `https://${req.headers.host}${base}`).replace(/\/$/, '');

  /** The CSRF token of the request's sign-in session, for the page's forms. */
  const csrfTokenFor = (req: IncomingMessage): string | undefined => {
    const session = opts.login && cookieValue(req.headers.cookie, SESSION_COOKIE);
    return session ? opts.login!.csrf.forSession(session) : undefined;
  };

  /**
   * Why a POST is refused: from another origin, or carrying the session cookie without
   * the session's CSRF token. Clients without the cookie (certificates) need no token.
   */
  const changeRefusal = (req: IncomingMessage, body: string | undefined): string | undefined => {
    const refusal = crossSiteRefusal(req.headers, ownOrigins(viewUrl(req), req.headers.host), true);
    if (refusal) return `Refused ${refusal}: changes are accepted only from the pages of this view.`;
    const session = opts.login && cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!session) return undefined;
    const token = csrfTokenOf(req.headers, body);
    return opts.login!.csrf.matches(session, token) ? undefined : `Refused a change ${token ? 'with a wrong' : 'without the'} CSRF token of the session: changes are accepted only from the pages of this view.`;
  };

  /** /login, /login/callback, /logout: true when the request was one of them. */
  const signIn = async (req: IncomingMessage, res: ServerResponse, rest: string, query: URLSearchParams, body: string | undefined): Promise<boolean> => {
    const login = opts.login;
    if (!login || !['/login', '/login/callback', '/logout'].includes(rest)) return false;
    // GET /logout only offers the sign-out button; the POST signs out.
    if (!(rest === '/logout' ? ['GET', 'POST'] : ['GET']).includes(req.method ?? '')) return false;
    const site0 = { organization: organization(), base };
    const redirectUri = `${viewUrl(req)}/login/callback`;
    try {
      if (rest === '/login') {
        const started = await beginSignIn(login, redirectUri, query.get('return'), base);
        send(res, 302, '', 'text/plain', { location: started.location, 'set-cookie': started.setCookie });
      } else if (rest === '/login/callback') {
        const done = await completeSignIn(login, req.headers.cookie, query, redirectUri, base);
        send(res, 302, '', 'text/plain', { location: `${base}${done.returnTo ? `/${done.returnTo}` : ''}`, 'set-cookie': done.setCookie });
      } else if (req.method === 'GET') {
        send(res, 200, messagePage(site0, 200, 'Sign out', 'End your session at this process engine view.', html`<p>${postButton(`${base}/logout`, 'Sign out', 'primary', csrfTokenFor(req))}</p>`));
      } else {
        const refusal = changeRefusal(req, body);
        if (refusal) {
          send(res, 403, messagePage(site0, 403, 'Forbidden', refusal));
          return true;
        }
        const again = html`<p><a class="button primary" href="${base}/login">Sign in again</a></p>`;
        send(res, 200, messagePage(site0, 200, 'Signed out', 'Your session at this process engine view has ended.', again), undefined, { 'set-cookie': signOutCookie(base) });
      }
    } catch (e) {
      if (!(e instanceof LoginError)) throw e;
      send(res, 401, messagePage(site0, 401, 'Sign-in failed', e.message, html`<p><a class="button primary" href="${base}/login">Try again</a></p>`));
    }
    return true;
  };

  const definitionLabels = async (): Promise<Map<string, { key: string; version: string }>> =>
    new Map((await opts.engine.listDefinitions()).map((d) => [d.id, { key: d.key, version: d.versionTag ?? String(d.version) }]));

  const rows = async (): Promise<InstanceRow[]> => {
    const [instances, incidents, labels] = await Promise.all([opts.engine.listInstances(), opts.engine.listIncidents(), definitionLabels()]);
    const failed = new Set(incidents.map((x) => x.instanceId).filter((x): x is string => !!x));
    return instances
      .map((instance) => {
        const d = labels.get(instance.definitionId);
        return { instance, process: d ? `${d.key}|${d.version}` : instance.definitionKey, status: statusOf(instance, failed) };
      })
      .sort((a, b) => b.instance.startTime.localeCompare(a.instance.startTime));
  };

  return async (req, res, body) => {
    const parsed = parseRequestTarget(req.url);
    if (!parsed.ok) {
      // The HTTPS server refuses such targets before; this keeps the handler safe on its own.
      send(res, 400, messagePage({ organization: organization(), base }, 400, 'Bad request', parsed.problem));
      return true;
    }
    const { path, search, query } = parsed.target;
    if (path !== base && !path.startsWith(`${base}/`)) return false;
    const rest = path.slice(base.length);

    // Static files hold no data: served to anyone.
    const file = /^\/static\/([a-z.-]+)$/.exec(rest)?.[1];
    if (file && STATIC[file] && req.method === 'GET') {
      if (!staticCache.has(file)) staticCache.set(file, readFileSync(STATIC[file].path()));
      send(res, 200, staticCache.get(file)!, `${STATIC[file].type};charset=UTF-8`, { 'cache-control': 'no-cache' });
      return true;
    }

    if (await signIn(req, res, rest, query, body)) return true;

    const site0 = { organization: organization(), base };
    const who = await caller(req);
    if (!who) {
      const back = safeReturn(`${rest.slice(1)}${search}`);
      const signInLink = opts.login ? html`<p><a class="button primary" href="${base}/login${back ? `?return=${encodeURIComponent(back)}` : ''}">Sign in</a></p>` : undefined;
      const how = opts.login
        ? 'Sign in with an account that the BPE role configuration gives the ADMIN role, or use a client certificate of this site that it names.'
        : 'Sign in with a client certificate of this site that the BPE role configuration gives the ADMIN role.';
      send(res, 401, messagePage(site0, 401, 'Not signed in', how, signInLink));
      return true;
    }
    const signOut = who.session ? `${base}/logout` : undefined;
    if (!who.admin) {
      send(res, 403, messagePage({ ...site0, user: who.name, signOutUrl: signOut, csrfToken: csrfTokenFor(req) }, 403, 'Forbidden', 'The process engine view is for administrators only (role ADMIN in the BPE role configuration).'));
      return true;
    }
    const site: BpePageSite = { ...site0, user: who.name, fhirUiUrl: opts.fhirUiUrl, signOutUrl: signOut, csrfToken: csrfTokenFor(req) };

    try {
      if (req.method === 'POST') {
        // Only forms of this view may change anything: a cross-site form would carry the client certificate too.
        const refusal = changeRefusal(req, body);
        if (refusal) {
          send(res, 403, messagePage(site, 403, 'Forbidden', refusal));
          return true;
        }
        const cancel = /^\/instances\/([A-Za-z0-9-]{1,64})\/cancel$/.exec(rest);
        if (cancel) {
          if (!(await opts.engine.cancelInstance(cancel[1]!))) {
            const instance = await opts.engine.getInstance(cancel[1]!);
            if (!instance) send(res, 404, messagePage(site, 404, 'Not found', 'No process instance with this id: nothing was cancelled.'));
            else send(res, 409, messagePage(site, 409, 'Not running', `This process instance has ended already (${instance.state}): nothing was cancelled.`));
            return true;
          }
          send(res, 303, '', 'text/plain', { location: `${base}/instances/${cancel[1]}` });
          return true;
        }
        const retry = /^\/jobs\/([A-Za-z0-9-]{1,64})\/retry$/.exec(rest);
        if (retry) {
          const incident = (await opts.engine.listIncidents()).find((x) => x.jobId === retry[1]);
          if (!incident) {
            send(res, 404, messagePage(site, 404, 'Not found', 'No failed job with this id (retried already?).'));
            return true;
          }
          try {
            await opts.engine.retryIncident(incident.jobId);
          } catch (e) {
            // Another admin's retry took the incident between the look-up and this one.
            if (!(e instanceof EngineError)) throw e;
            send(res, 409, messagePage(site, 409, 'Retried already', 'This failed job has been given another attempt already; nothing was changed.'));
            return true;
          }
          send(res, 303, '', 'text/plain', { location: incident.instanceId ? `${base}/instances/${incident.instanceId}` : base });
          return true;
        }
        send(res, 404, messagePage(site, 404, 'Not found', 'No such action.'));
        return true;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, messagePage(site, 405, 'Not allowed', `${req.method} is not supported here.`), undefined, { allow: 'GET, POST' });
        return true;
      }

      if (rest === '') {
        const all = await rows();
        const plugins = opts.deployment.plugins.map((p) => ({ name: p.name, version: p.version }));
        const processes: ProcessRow[] = opts.deployment.states.map((s) => {
          const own = all.filter((r) => r.process === `${s.processId}|${s.version}`);
          const counts = Object.fromEntries(INSTANCE_FILTERS.map((f) => [f, own.filter((r) => inFilter(r.status, f)).length])) as ProcessRow['counts'];
          return { processId: s.processId, version: s.version, state: s.newState, counts };
        });
        send(res, 200, overviewPage(site, plugins, processes));
        return true;
      }
      if (rest === '/instances') {
        const stateParam = query.get('state');
        const state = INSTANCE_FILTERS.includes(stateParam as InstanceFilter) ? (stateParam as InstanceFilter) : undefined;
        const process = query.get('process') ?? undefined;
        const list = (await rows()).filter((r) => inFilter(r.status, state) && (!process || r.process.split('|')[0] === process));
        send(res, 200, instancesPage(site, list, { state, process }));
        return true;
      }
      const xml = /^\/definitions\/([A-Za-z0-9_.:%~-]{1,300})\/bpmn$/.exec(rest);
      if (xml) {
        const text = await opts.engine.definitionXml(decodeURIComponent(xml[1]!));
        if (text === undefined) send(res, 404, messagePage(site, 404, 'Not found', 'No such process definition.'));
        else send(res, 200, text, 'application/xml;charset=UTF-8');
        return true;
      }
      const one = /^\/instances\/([A-Za-z0-9-]{1,64})$/.exec(rest);
      if (one) {
        const instance = await opts.engine.getInstance(one[1]!);
        if (!instance) {
          send(res, 404, messagePage(site, 404, 'Not found', 'No process instance with this id.'));
          return true;
        }
        const [variables, history, incidents, executions, labels] = await Promise.all([
          opts.engine.getVariables(instance.id),
          opts.engine.activityHistory(instance.id),
          opts.engine.listIncidents().then((all) => all.filter((x) => x.instanceId === instance.id)),
          instance.state === 'active' ? opts.engine.listExecutions(instance.id) : Promise.resolve([]),
          definitionLabels(),
        ]);
        const d = labels.get(instance.definitionId);
        const row: InstanceRow = { instance, process: d ? `${d.key}|${d.version}` : instance.definitionKey, status: statusOf(instance, new Set(incidents.length ? [instance.id] : [])) };
        const activeActivities = [...new Set([...executions.map((e) => e.activityId), ...history.filter((h) => !h.endTime).map((h) => h.activityId)].filter((a): a is string => !!a))];
        send(res, 200, instancePage(site, { row, variables, history, incidents, activeActivities, xmlUrl: `${base}/definitions/${encodeURIComponent(instance.definitionId)}/bpmn` }));
        return true;
      }
      send(res, 404, messagePage(site, 404, 'Not found', 'No such page.'));
      return true;
    } catch (e) {
      // The message may quote data or SQL: logged with its stack, not shown.
      opts.log?.error(`BPE view: ${req.method} ${rest.split('/')[1] ?? ''} failed: ${(e as Error).stack ?? String(e)}`);
      if (res.headersSent) res.destroy();
      else send(res, 500, messagePage(site, 500, 'Server error', 'The request failed; the error is in the BPE log.'));
      return true;
    }
  };
}
