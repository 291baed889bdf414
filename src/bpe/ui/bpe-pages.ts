// The BPE view's pages: deployed plugins and processes with their states, process instances with
// filters, and one instance with its diagram (bpmn-js, marked by static/bpe.js), variables, history,
// incidents with retry, and cancel. Server-rendered with escaped templates.
import { html, safeUrl, trusted, type SafeHtml } from '../../common/web/html.ts';
import { postButton } from '../../common/web/same-origin.ts';
import { csrfField } from '../../common/web/csrf-token.ts';
import type { ActivityHistory, Incident, InstanceInfo } from '../engine/index.ts';

export interface BpePageSite {
  organization: string;
  /** e.g. /bpe/ui */
  base: string;
  /** The site's FHIR pages, linked from the header. */
  fhirUiUrl?: string;
  user: string;
  /** Set for a sign-in session (a certificate cannot be signed out of). */
  signOutUrl?: string;
  /** The sign-in session's CSRF token, in every form (bpe-web-ui.ts checks it). */
  csrfToken?: string;
}

export interface ProcessRow {
  processId: string;
  version: string;
  state: string;
  plugin?: string;
  counts: Record<InstanceFilter, number>;
}

export type InstanceFilter = 'running' | 'failed' | 'finished';
export const INSTANCE_FILTERS: InstanceFilter[] = ['running', 'failed', 'finished'];

export interface InstanceRow {
  instance: InstanceInfo;
  process: string;
  status: InstanceFilter | 'cancelled';
}

export function bpeLayout(site: BpePageSite, title: string, content: SafeHtml, opts: { diagram?: boolean } = {}): string {
  const s = `${site.base}/static`;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · BPE ${site.organization}</title>
<link rel="stylesheet" href="${s}/ui.css">
${opts.diagram ? html`<link rel="stylesheet" href="${s}/diagram-js.css"><link rel="stylesheet" href="${s}/bpmn-js.css"><script src="${s}/bpmn-viewer.js" defer></script>` : ''}
<script src="${s}/bpe.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="${site.base}">DSF BPE <span>${site.organization}</span></a>
  <span class="who">${site.user} · admin${site.fhirUiUrl ? html` · <a href="${safeUrl(site.fhirUiUrl)}">FHIR server</a>` : ''}${signOut(site)}</span>
</header>
<nav class="quick"><a href="${site.base}">Processes</a>${INSTANCE_FILTERS.map((f) => html`<a href="${site.base}/instances?state=${f}">${f[0]!.toUpperCase() + f.slice(1)}</a>`)}</nav>
<main>
${content}
</main>
</body>
</html>
`.value;
}

export function overviewPage(site: BpePageSite, plugins: { name: string; version: string }[], processes: ProcessRow[]): string {
  const content = html`<h1>Processes</h1>
<p class="muted">${plugins.length} plugin(s) deployed: ${plugins.map((p) => `${p.name} ${p.version}`).join(', ')}</p>
<div class="scroll"><table class="entries">
<thead><tr><th>Process</th><th>State</th>${INSTANCE_FILTERS.map((f) => html`<th>${f}</th>`)}</tr></thead>
<tbody>${processes.map(
    (p) => html`<tr><td><a href="${site.base}/instances?process=${encodeURIComponent(p.processId)}">${p.processId}</a> <span class="muted">${p.version}</span>${p.plugin ? html`<div class="muted small">${p.plugin}</div>` : ''}</td>
<td><span class="status ${p.state}">${p.state}</span></td>
${INSTANCE_FILTERS.map((f) => html`<td><a href="${site.base}/instances?process=${encodeURIComponent(p.processId)}&amp;state=${f}">${p.counts[f]}</a></td>`)}</tr>`,
  )}</tbody>
</table></div>`;
  return bpeLayout(site, 'Processes', content);
}

/** The instance list shows the newest this many; a long-running site has far more, and a page must stay small. */
export const MAX_LISTED_INSTANCES = 500;

export function instancesPage(site: BpePageSite, all: InstanceRow[], filter: { state?: InstanceFilter; process?: string }): string {
  const rows = all.slice(0, MAX_LISTED_INSTANCES);
  const link = (state?: InstanceFilter) => `${site.base}/instances?${new URLSearchParams({ ...(filter.process ? { process: filter.process } : {}), ...(state ? { state } : {}) })}`;
  const content = html`<h1>Process instances${filter.process ? html` of ${filter.process}` : ''}</h1>
<div class="filters"><a class="button${filter.state ? '' : ' on'}" href="${link()}">all</a>${INSTANCE_FILTERS.map((f) => html`<a class="button${filter.state === f ? ' on' : ''}" href="${link(f)}">${f}</a>`)}</div>
${
  rows.length
    ? html`<div class="scroll"><table class="entries"><thead><tr><th>Instance</th><th>Status</th><th class="opt">Started</th><th class="opt">Ended</th></tr></thead><tbody>${rows.map(
        (r) => html`<tr><td><a href="${site.base}/instances/${r.instance.id}">${r.process}</a><div class="muted small">${r.instance.businessKey ?? r.instance.id}</div></td>
<td><span class="status ${r.status}">${r.status}</span></td><td class="opt nowrap">${time(r.instance.startTime)}</td><td class="opt nowrap">${time(r.instance.endTime)}</td></tr>`,
      )}</tbody></table></div>`
    : html`<p class="empty">No instances.</p>`
}${all.length > rows.length ? html`<p class="muted">The newest ${rows.length} of ${all.length} instances; narrow the list by process or state.</p>` : ''}`;
  return bpeLayout(site, 'Process instances', content);
}

function time(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

/** A large value's one-line summary: its resourceType and id, or its kind and size. */
function variableSummary(value: object): string {
  const r = value as { resourceType?: unknown; id?: unknown; status?: unknown };
  if (typeof r.resourceType === 'string') return [`${r.resourceType}${typeof r.id === 'string' ? `/${r.id}` : ''}`, typeof r.status === 'string' ? r.status : ''].filter(Boolean).join(' · ');
  return Array.isArray(value) ? `list of ${value.length}` : `object with ${Object.keys(value).length} entries`;
}

function variableValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const text = JSON.stringify(value, null, 2) ?? String(value);
    return text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
  } catch {
    return String(value);
  }
}

export interface InstanceDetail {
  row: InstanceRow;
  variables: Record<string, unknown>;
  history: ActivityHistory[];
  incidents: Incident[];
  activeActivities: string[];
  xmlUrl: string;
}

export function instancePage(site: BpePageSite, d: InstanceDetail): string {
  const i = d.row.instance;
  const completed = [...new Set(d.history.filter((h) => h.endTime).map((h) => h.activityId))];
  const failed = [...new Set(d.incidents.map((x) => x.activityId).filter((a): a is string => !!a))];
  const active = i.state === 'active';
  const content = html`<h1>${d.row.process} <span class="status ${d.row.status}">${d.row.status}</span></h1>
<p class="muted">instance ${i.id}${i.businessKey ? html` · business key ${i.businessKey}` : ''} · started ${time(i.startTime)}${i.endTime ? html` · ended ${time(i.endTime)}` : ''}</p>
${active ? html`<form method="post" action="${site.base}/instances/${i.id}/cancel" class="actions" data-confirm="Cancel this process instance?">${csrfField(site.csrfToken)}<button class="danger" type="submit">Cancel instance</button></form>` : ''}
<h2>Diagram</h2>
<div class="legend"><span class="status completed">completed</span><span class="status running">active</span><span class="status failed">failed</span></div>
<div id="diagram" data-xml-url="${d.xmlUrl}" data-completed="${JSON.stringify(completed)}" data-active="${JSON.stringify(d.activeActivities)}" data-failed="${JSON.stringify(failed)}"></div>
${
  d.incidents.length
    ? html`<h2>Incidents</h2><ul class="issues">${d.incidents.map(
        (x) => html`<li class="error"><strong>${x.activityId ?? x.type}</strong> failed ${time(x.failedAt)}: <pre>${x.exception ?? ''}</pre>
<form method="post" action="${site.base}/jobs/${x.jobId}/retry">${csrfField(site.csrfToken)}<button type="submit">Retry</button></form></li>`,
      )}</ul>`
    : ''
}
<h2>Variables</h2>
${
  Object.keys(d.variables).length
    ? html`<dl class="card">${Object.entries(d.variables).map(([k, v]) => html`<div class="el"><dt>${k}</dt><dd>${v !== null && typeof v === 'object' ? html`<details><summary>${variableSummary(v)}</summary><pre>${variableValue(v)}</pre></details>` : html`<pre>${variableValue(v)}</pre>`}</dd></div>`)}</dl>`
    : html`<p class="empty">No variables.</p>`
}
<h2>History</h2>
<div class="scroll"><table class="entries"><thead><tr><th>Activity</th><th>Type</th><th class="opt">Started</th><th>Ended</th></tr></thead><tbody>${d.history.map(
    (h) => html`<tr><td>${h.activityId}</td><td>${h.activityType}</td><td class="opt nowrap">${time(h.startTime)}</td><td class="nowrap">${h.endTime ? time(h.endTime) : trusted('<span class="status running">active</span>')}</td></tr>`,
  )}</tbody></table></div>`;
  return bpeLayout(site, d.row.process, content, { diagram: true });
}

function signOut(site: { signOutUrl?: string; csrfToken?: string }): SafeHtml | string {
  return site.signOutUrl ? html` · ${postButton(site.signOutUrl, 'Sign out', 'link', site.csrfToken)}` : '';
}

/** A page with a status and a message only (errors, sign-in, signed out): no data of the engine. */
export function messagePage(site: Omit<BpePageSite, 'user'> & { user?: string }, status: number, title: string, text: string, more?: SafeHtml): string {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><link rel="stylesheet" href="${site.base}/static/ui.css"></head>
<body><header class="top"><span class="brand">DSF BPE <span>${site.organization}</span></span><span class="who">${site.user ?? 'not signed in'}${signOut(site)}</span></header>
<main><h1>${status >= 400 ? html`<span class="type">${status}</span> ` : ''}${title}</h1><p>${text}</p>${more ?? ''}</main></body></html>
`.value;
}
