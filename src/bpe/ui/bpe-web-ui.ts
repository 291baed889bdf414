// The BPE's web view, served under <base> (e.g. /bpe/ui) by the BPE's HTTPS server. Only callers with
// the ADMIN role of DEV_DSF_BPE_SERVER_ROLECONFIG see it (as the reference's BPE UI): a client
// certificate matched by thumbprint or e-mail. Changes (cancel, retry) are POSTs from this view's own
// pages only (Origin checked), answered with a redirect to the instance page.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseCertificatePem, thumbprintSha512 } from '../../common/x509.ts';
import type { ProcessEngine, InstanceInfo } from '../engine/index.ts';
import type { PluginDeploymentResult } from '../plugins/plugin-manager.ts';
import type { BpeRoleConfig } from './bpe-role-config.ts';
import { INSTANCE_FILTERS, instancePage, instancesPage, messagePage, overviewPage, type BpePageSite, type InstanceFilter, type InstanceRow, type ProcessRow } from './bpe-pages.ts';

export interface BpeWebUiOptions {
  engine: ProcessEngine;
  deployment: PluginDeploymentResult;
  organization: string;
  roles: BpeRoleConfig;
  /** Path the view is served under, e.g. /bpe/ui */
  base: string;
  fhirUiUrl?: string;
}

/** A request handler: true when it answered the request (its path is under the base). */
export type BpeWebUiHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

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

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'text/html;charset=UTF-8', headers: Record<string, string> = {}): void {
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
  const staticCache = new Map<string, Buffer>();

  const caller = (req: IncomingMessage): { name: string; admin: boolean } | undefined => {
    const socket = req.socket as Partial<TLSSocket>;
    const raw = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false)?.raw : undefined;
    if (!raw || raw.length === 0 || (socket as TLSSocket).authorized !== true) return undefined;
    const info = parseCertificatePem(raw);
    const admin = opts.roles.isAdmin({ thumbprint: thumbprintSha512(raw), emails: info.email ? [info.email] : [] });
    return { name: info.commonName ?? info.email ?? 'certificate', admin };
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

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const path = url.pathname.replace(/\/$/, '');
    if (path !== base && !path.startsWith(`${base}/`)) return false;
    const rest = path.slice(base.length);

    // Static files hold no data: served to anyone.
    const file = /^\/static\/([a-z.-]+)$/.exec(rest)?.[1];
    if (file && STATIC[file] && req.method === 'GET') {
      if (!staticCache.has(file)) staticCache.set(file, readFileSync(STATIC[file].path()));
      send(res, 200, staticCache.get(file)!, `${STATIC[file].type};charset=UTF-8`, { 'cache-control': 'no-cache' });
      return true;
    }

    const site0 = { organization: opts.organization, base };
    const who = caller(req);
    if (!who) {
      send(res, 401, messagePage(site0, 401, 'Not signed in', 'Sign in with a client certificate of this site that the BPE role configuration gives the ADMIN role.'));
      return true;
    }
    if (!who.admin) {
      send(res, 403, messagePage({ ...site0, user: who.name }, 403, 'Forbidden', 'The process engine view is for administrators only (role ADMIN in the BPE role configuration).'));
      return true;
    }
    const site: BpePageSite = { ...site0, user: who.name, fhirUiUrl: opts.fhirUiUrl };

    try {
      if (req.method === 'POST') {
        // Only forms of this view may change anything: a cross-site form would carry the client certificate too.
        const origin = req.headers.origin;
        if (!origin || origin !== `https://${req.headers.host}`) {
          send(res, 403, messagePage(site, 403, 'Forbidden', 'Changes are accepted only from the pages of this view.'));
          return true;
        }
        req.resume();
        const cancel = /^\/instances\/([A-Za-z0-9-]{1,64})\/cancel$/.exec(rest);
        if (cancel) {
          await opts.engine.cancelInstance(cancel[1]!);
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
          await opts.engine.retryIncident(incident.jobId);
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
        const stateParam = url.searchParams.get('state');
        const state = INSTANCE_FILTERS.includes(stateParam as InstanceFilter) ? (stateParam as InstanceFilter) : undefined;
        const process = url.searchParams.get('process') ?? undefined;
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
      send(res, 500, messagePage(site, 500, 'Server error', (e as Error).message));
      return true;
    }
  };
}
