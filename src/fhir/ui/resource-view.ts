// A resource as a readable page: its elements as a nested list (references and canonicals as links; a
// Task's inputs and outputs as tables, task-io-view.ts), a
// JSON and an XML view of the same resource, and for Binaries a download link. The forms (start a
// process, answer a user task) are built on top of this page by static/ui.js from the embedded JSON.
import type { Resource, Task } from '@medplum/fhirtypes';
import { toFhirXml } from '../model/xml-write.ts';
import { behaviourOf } from '../types/registry.ts';
import { html, safeUrl, type SafeHtml } from '../../common/web/html.ts';
import { layout, pageLink } from './page-layout.ts';
import type { PageContext } from './ui-context.ts';
import { taskParameterTables } from './task-io-view.ts';

/** Canonical elements and the resource type they point to (a search by url finds the target). */
const CANONICAL_TARGETS: Record<string, string> = {
  instantiatesCanonical: 'ActivityDefinition',
  questionnaire: 'Questionnaire',
  valueSet: 'ValueSet',
  profile: 'StructureDefinition',
};

/** A reference or canonical as the URL of its page; undefined when it is not something to follow. */
function referenceHref(ctx: PageContext, key: string, value: string): string | undefined {
  if (key === 'reference' || key === 'fullUrl') {
    if (/^https?:\/\//i.test(value)) return value.startsWith(`${ctx.site.baseUrl}/`) ? pageLink(ctx, value.slice(ctx.site.baseUrl.length + 1)) : value;
    if (/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/.test(value)) return pageLink(ctx, value);
    return undefined;
  }
  const target = CANONICAL_TARGETS[key];
  if (target && /^https?:\/\//i.test(value)) {
    const [url, version] = value.split('|', 2);
    return pageLink(ctx, `${target}?url=${encodeURIComponent(url!)}${version ? `&version=${encodeURIComponent(version)}` : ''}`);
  }
  return undefined;
}

function primitive(ctx: PageContext, key: string, value: unknown): SafeHtml {
  if (typeof value === 'string') {
    const href = referenceHref(ctx, key, value);
    if (href) return html`<a href="${safeUrl(href)}">${value}</a>`;
    if (key === 'data' && value.length > 200) return html`<span class="muted">${value.length} characters of base64</span>`;
    return html`<span class="v">${value}</span>`;
  }
  return html`<span class="v ${typeof value}">${String(value)}</span>`;
}

function tree(ctx: PageContext, key: string, value: unknown, depth: number): SafeHtml {
  if (Array.isArray(value)) return html`${value.map((v) => tree(ctx, key, v, depth))}`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([k]) => !(depth === 0 && (k === 'resourceType' || k === 'text')));
    const body = html`<dl>${entries.map(([k, v]) => (v && typeof v === 'object' ? html`<div class="el"><dt>${k}</dt><dd>${tree(ctx, k, v, depth + 1)}</dd></div>` : html`<div class="el"><dt>${k}</dt><dd>${primitive(ctx, k, v)}</dd></div>`))}</dl>`;
    return depth === 0 ? body : html`<div class="obj">${body}</div>`;
  }
  return primitive(ctx, key, value);
}

/** Readable, JSON and XML views of a value, switched by radio buttons (works without script). */
export function formatTabs(name: string, readable: SafeHtml, resource: Resource): SafeHtml {
  const json = JSON.stringify(resource, null, 2);
  let xml: string;
  try {
    xml = toFhirXml(resource, { pretty: true });
  } catch (e) {
    xml = `(no XML form: ${(e as Error).message})`;
  }
  return html`<div class="tabs">
<input type="radio" name="${name}" id="${name}-html" checked><label for="${name}-html">Readable</label>
<input type="radio" name="${name}" id="${name}-json"><label for="${name}-json">JSON</label>
<input type="radio" name="${name}" id="${name}-xml"><label for="${name}-xml">XML</label>
<div class="tab tab-html">${readable}</div>
<div class="tab tab-json"><pre>${json}</pre></div>
<div class="tab tab-xml"><pre>${xml}</pre></div>
</div>`;
}

/** A resource's name, title, url or first identifier; '' when it has none. */
export function resourceName(r: Resource): string {
  const any = r as Resource & Record<string, unknown>;
  const name = [any.title, any.name, any.url, (any.identifier as { value?: string }[] | undefined)?.[0]?.value]
    .map((v) => (typeof v === 'string' ? v : Array.isArray(v) ? (v as { text?: string; family?: string }[]).map((n) => n.text ?? n.family).find(Boolean) : undefined))
    .find(Boolean);
  return typeof name === 'string' ? name : '';
}

export function resourceStatus(r: Resource): string {
  const status = (r as Resource & { status?: unknown }).status;
  return typeof status === 'string' ? status : '';
}

/** One-line description of a resource: its name and status. */
export function resourceLabel(r: Resource): string {
  return [resourceName(r), resourceStatus(r)].filter(Boolean).join(' · ');
}

/** The readable tab: the element tree; a Task's inputs and outputs as tables below the rest. */
function readableView(ctx: PageContext, resource: Resource): SafeHtml {
  if (resource.resourceType !== 'Task') return tree(ctx, '', resource, 0);
  const { input: _input, output: _output, ...rest } = resource as Task;
  return html`${tree(ctx, '', rest, 0)}${taskParameterTables(ctx, resource as Task)}`;
}

export function resourcePage(ctx: PageContext, resource: Resource): SafeHtml {
  const id = resource.id;
  const label = resourceLabel(resource);
  const meta = resource.meta;
  // Types with content storage (Binary) offer their raw content for download.
  const hasContent = behaviourOf(resource.resourceType).content !== undefined;
  const actions = html`<div class="actions">
${id ? html`<a href="${safeUrl(pageLink(ctx, `${resource.resourceType}/${id}/_history`))}">History</a>` : ''}
${id ? html`<a href="${safeUrl(`${ctx.site.baseUrl}/${resource.resourceType}/${id}?_format=json&_pretty=true`)}">JSON</a><a href="${safeUrl(`${ctx.site.baseUrl}/${resource.resourceType}/${id}?_format=xml&_pretty=true`)}">XML</a>` : ''}
${hasContent && id ? html`<a class="button" download href="${safeUrl(`${ctx.site.baseUrl}/${resource.resourceType}/${id}`)}">Download (${(resource as { contentType?: string }).contentType ?? 'content'})</a>` : ''}
</div>`;
  const status = resourceStatus(resource);
  const content = html`<h1><span class="type">${resource.resourceType}</span> ${resourceName(resource)}${status ? html` <span class="status ${status}">${status}</span>` : ''}</h1>
<p class="muted">${id ? html`id ${id}` : ''}${meta?.versionId ? html` · version ${meta.versionId}` : ''}${meta?.lastUpdated ? html` · updated ${meta.lastUpdated}` : ''}</p>
${actions}
<section id="dsf-form"></section>
${formatTabs('view', readableView(ctx, resource), resource)}`;
  return layout(ctx, `${resource.resourceType}${label ? ` ${label}` : ''}`, content, resource);
}
