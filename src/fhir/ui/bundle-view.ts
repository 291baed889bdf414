// Search and history results as a page: a table of the entries (each a link to its page), the total,
// and the paging links.
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { html, safeUrl, type SafeHtml } from '../../common/web/html.ts';
import { layout, pageLink, withHtmlFormat } from './page-layout.ts';
import { formatTabs, resourceName, resourceStatus } from './resource-view.ts';
import type { PageContext } from './ui-context.ts';

const PAGING = ['first', 'previous', 'next', 'last'];

function entryHref(ctx: PageContext, e: BundleEntry): string | undefined {
  const r = e.resource;
  if (r?.id) return pageLink(ctx, `${r.resourceType}/${r.id}${r.meta?.versionId && e.request ? `/_history/${r.meta.versionId}` : ''}`);
  const full = e.fullUrl ?? e.response?.location;
  if (full?.startsWith(`${ctx.site.baseUrl}/`)) return pageLink(ctx, full.slice(ctx.site.baseUrl.length + 1));
  return undefined;
}

function row(ctx: PageContext, e: BundleEntry): SafeHtml {
  const r = e.resource as Resource | undefined;
  const href = entryHref(ctx, e);
  const title = r ? `${r.resourceType}/${r.id ?? ''}` : (e.fullUrl ?? e.request?.url ?? '');
  const name = (r && resourceName(r)) || title;
  const status = r ? resourceStatus(r) : '';
  return html`<tr>
<td>${href ? html`<a href="${safeUrl(href)}">${name}</a>` : name}${name !== title ? html`<div class="muted small">${title}</div>` : ''}</td>
<td>${status ? html`<span class="status ${status}">${status}</span>` : ''}</td>
<td class="nowrap opt">${r?.meta?.lastUpdated?.replace('T', ' ').replace(/\.\d+/, '') ?? ''}</td>
<td class="opt">${e.request ? `${e.request.method} ${e.response?.status ?? ''}` : (e.search?.mode ?? '')}</td>
</tr>`;
}

export function bundlePage(ctx: PageContext, bundle: Bundle): SafeHtml {
  const entries = bundle.entry ?? [];
  const links = (bundle.link ?? []).filter((l) => PAGING.includes(l.relation ?? '') && l.url);
  const href = (url: string) => (ctx.formatParam ? withHtmlFormat(url) : url);
  const paging = links.length ? html`<nav class="paging">${links.map((l) => html`<a href="${safeUrl(href(l.url!))}">${l.relation}</a>`)}</nav>` : '';
  const table = entries.length
    ? html`<div class="scroll"><table class="entries"><thead><tr><th>Resource</th><th>Status</th><th class="opt">Updated</th><th class="opt">${bundle.type === 'history' ? 'Change' : 'Mode'}</th></tr></thead><tbody>${entries.map((e) => row(ctx, e))}</tbody></table></div>`
    : html`<p class="empty">Nothing found.</p>`;
  const [path] = ctx.path.split('?');
  const content = html`<h1><span class="type">${bundle.type === 'history' ? 'History' : 'Search'}</span> ${path}</h1>
<p class="muted">${bundle.total !== undefined ? html`${bundle.total} in total · ` : ''}${entries.length} on this page</p>
<form class="search" method="get" action="${safeUrl(`${ctx.site.baseUrl}/${path}`)}">
<input name="_query" aria-label="search parameters" value="${ctx.path.includes('?') ? ctx.path.slice(ctx.path.indexOf('?') + 1) : ''}" placeholder="parameters, e.g. _count=20&amp;_sort=-_lastUpdated">
<button type="submit">Search</button>
</form>
${paging}
${formatTabs('view', table, bundle)}
${paging}`;
  return layout(ctx, `${bundle.type === 'history' ? 'History' : 'Search'} ${path}`, content);
}
