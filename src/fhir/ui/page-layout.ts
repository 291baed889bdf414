// The frame of every FHIR page: header with the site and the caller, quick links to the resource
// types people look at, the page's content, the site's own script and style sheet.
import { html, jsonForScript, safeUrl, type SafeHtml } from '../../common/web/html.ts';
import type { PageContext } from './ui-context.ts';
import { postButton } from '../../common/web/same-origin.ts';

/** Quick links: what a researcher, committee member or administrator opens most. */
const QUICK_LINKS: [string, string][] = [
  ['Start a process', 'Task?status=draft&_sort=identifier'],
  ['User tasks', 'QuestionnaireResponse?status=in-progress&_sort=-_lastUpdated'],
  ['Tasks', 'Task?_sort=-_lastUpdated'],
  ['Processes', 'ActivityDefinition'],
  ['Organizations', 'Organization'],
  ['Endpoints', 'Endpoint'],
  ['Binaries', 'Binary?_sort=-_lastUpdated'],
  ['Questionnaires', 'Questionnaire'],
  ['Code systems', 'CodeSystem'],
  ['Value sets', 'ValueSet'],
  ['Profiles', 'StructureDefinition'],
];

/** A link below the base URL, asking for HTML by parameter when the page was asked for that way. */
export function pageLink(ctx: PageContext, path: string): string {
  const url = `${ctx.site.baseUrl}/${path.replace(/^\//, '')}`;
  return ctx.formatParam ? withHtmlFormat(url) : url;
}

export function withHtmlFormat(url: string): string {
  const [path, query = ''] = url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.set('_format', 'html');
  return `${path}?${params}`;
}

export function layout(ctx: PageContext, title: string, content: SafeHtml, data?: unknown): SafeHtml {
  const base = ctx.site.baseUrl;
  const u = ctx.user;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · DSF ${ctx.site.organization}</title>
<link rel="stylesheet" href="${base}/static/ui.css">
<script src="${base}/static/ui.js" defer></script>
</head>
<body data-base="${base}" data-format-param="${ctx.formatParam ? 'true' : 'false'}"${ctx.csrfToken ? html` data-csrf="${ctx.csrfToken}"` : ''}${u ? html` data-user-kind="${u.kind}" data-user-org="${u.organizationIdentifier}" data-user-email="${u.email ?? ''}"` : ''}>
<header class="top">
  <a class="brand" href="${safeUrl(pageLink(ctx, 'Task?status=draft'))}">DSF <span>${ctx.site.organization}</span></a>
  <span class="who">${u ? html`${u.name}${u.admin ? ' · admin' : ''}${u.session ? html` · ${postButton(`${base}/logout`, 'Sign out', 'link', ctx.csrfToken)}` : ''}` : ctx.site.oidcLogin ? html`<a href="${base}/login">Sign in</a>` : 'not signed in'}</span>
</header>
${u ? html`<nav class="quick">${QUICK_LINKS.map(([label, path]) => html`<a href="${safeUrl(pageLink(ctx, path))}">${label}</a>`)}${u.admin && ctx.site.bpeUiUrl ? html`<a href="${safeUrl(ctx.site.bpeUiUrl)}">Process engine</a>` : ''}</nav>` : ''}
<main>
${content}
</main>
${data === undefined ? '' : html`<script type="application/json" id="dsf-resource">${jsonForScript(data)}</script>`}
</body>
</html>
`;
}
