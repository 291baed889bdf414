// A Task's inputs and outputs as tables people can read: per parameter its type (display, else code),
// its value, and the parts of its extensions as "name: value" (e.g. a feasibility site result's
// organization-identifier, count and error-message). Everything goes through html`` (escaped).
import type { Coding, Extension, Identifier, Reference, Task, TaskInput } from '@medplum/fhirtypes';
import { html, safeUrl, type SafeHtml } from '../../common/web/html.ts';
import { pageLink } from './page-layout.ts';
import type { PageContext } from './ui-context.ts';

type Parameter = TaskInput & Record<string, unknown>;
type Valued = Record<string, unknown>;

/** The value[x] of an element, with its type suffix (e.g. ['Integer', 15]); undefined without one. */
function valueOf(element: Valued): [string, unknown] | undefined {
  const key = Object.keys(element).find((k) => k.startsWith('value') && k.length > 5);
  return key ? [key.slice(5), element[key]] : undefined;
}

/** An extension's or slice's name: the last segment of a URL, the url itself otherwise. */
function partName(url: string | undefined): string {
  if (!url) return '?';
  return /^https?:\/\//i.test(url) ? (url.replace(/\/+$/, '').split('/').pop() ?? url) : url;
}

function referenceLink(ctx: PageContext, ref: Reference): SafeHtml {
  const r = ref.reference;
  const label = ref.display ?? r ?? ref.identifier?.value ?? '';
  if (r && /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(r)) return html`<a href="${safeUrl(pageLink(ctx, r))}">${label}</a>`;
  if (r && r.startsWith(`${ctx.site.baseUrl}/`)) return html`<a href="${safeUrl(pageLink(ctx, r.slice(ctx.site.baseUrl.length + 1)))}">${label}</a>`;
  if (r && /^https?:\/\//i.test(r)) return html`<a href="${safeUrl(r)}">${label}</a>`;
  return html`${label}${ref.identifier?.system ? html` <span class="muted">${ref.identifier.system}</span>` : ''}`;
}

/** Any other complex value: its fields as "name: value", nested ones in braces. */
function flat(value: unknown): string {
  if (Array.isArray(value)) return value.map(flat).join(', ');
  if (value && typeof value === 'object') return Object.entries(value as Valued).map(([k, v]) => (v && typeof v === 'object' ? `${k}: {${flat(v)}}` : `${k}: ${String(v)}`)).join(', ');
  return String(value);
}

function formatValue(ctx: PageContext, type: string, value: unknown): SafeHtml {
  switch (type) {
    case 'Coding': {
      const c = value as Coding;
      return html`${c.display ?? c.code ?? ''}${c.display && c.code ? html` <span class="muted">${c.code}</span>` : ''}`;
    }
    case 'Identifier': {
      const i = value as Identifier;
      return html`${i.value ?? ''}${i.system ? html` <span class="muted">${i.system}</span>` : ''}`;
    }
    case 'Reference':
      return referenceLink(ctx, value as Reference);
    case 'Canonical':
    case 'Url':
    case 'Uri':
      return typeof value === 'string' && /^https?:\/\//i.test(value) ? html`<a href="${safeUrl(value)}">${value}</a>` : html`${String(value)}`;
    case 'Base64Binary':
      return html`<span class="muted">${String(value).length} characters of base64</span>`;
    default:
      return html`${value !== null && typeof value === 'object' ? flat(value) : String(value)}`;
  }
}

/** The parts of an extension (nested ones flattened) as "name: value" lines. */
function extensionParts(ctx: PageContext, ext: Extension, prefix = ''): SafeHtml[] {
  const name = `${prefix}${partName(ext.url)}`;
  const own = valueOf(ext as unknown as Valued);
  const lines = own ? [html`<div class="part"><span class="name">${name}:</span> ${formatValue(ctx, own[0], own[1])}</div>`] : [];
  for (const inner of ext.extension ?? []) lines.push(...extensionParts(ctx, inner, own ? `${name}.` : ''));
  return lines;
}

function typeCell(p: Parameter): SafeHtml {
  const coding = p.type?.coding?.[0];
  const label = coding?.display ?? coding?.code ?? p.type?.text ?? '';
  return html`<span title="${coding?.system ?? ''}">${label}</span>${coding?.display && coding.code ? html` <span class="muted">${coding.code}</span>` : ''}`;
}

function parameterTable(ctx: PageContext, title: string, params: Parameter[], cls: string): SafeHtml {
  return html`<h2>${title}</h2>
<table class="${cls}">
<thead><tr><th>Type</th><th>Value</th><th>Details</th></tr></thead>
<tbody>${params.map((p) => {
    const v = valueOf(p);
    return html`<tr><td>${typeCell(p)}</td><td>${v ? formatValue(ctx, v[0], v[1]) : ''}</td><td>${(p.extension ?? []).flatMap((e) => extensionParts(ctx, e))}</td></tr>`;
  })}</tbody>
</table>`;
}

/** The input and output tables of a Task ('' for parts it does not have). */
export function taskParameterTables(ctx: PageContext, task: Task): SafeHtml {
  return html`${task.input?.length ? parameterTable(ctx, 'Inputs', task.input as Parameter[], 'task-io task-input') : ''}
${task.output?.length ? parameterTable(ctx, 'Outputs', task.output as Parameter[], 'task-io task-output') : ''}`;
}
