// An error (or any OperationOutcome) as a page: the status, each issue with its location, and for 401
// how to sign in. No data beyond the outcome itself.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { html, type SafeHtml } from '../../common/web/html.ts';
import { layout } from './page-layout.ts';
import type { PageContext } from './ui-context.ts';

const STATUS_TEXT: Record<number, string> = { 400: 'Bad request', 401: 'Not signed in', 403: 'Forbidden', 404: 'Not found', 405: 'Not allowed', 406: 'Not acceptable', 408: 'Request timeout', 409: 'Conflict', 410: 'Deleted', 412: 'Changed meanwhile', 413: 'Too large', 414: 'URL too long', 415: 'Unsupported media type', 422: 'Not valid', 431: 'Headers too large', 500: 'Server error' };

export function outcomePage(ctx: PageContext, status: number, oo: OperationOutcome): SafeHtml {
  const signIn =
    status === 401
      ? html`<p>Sign in with a client certificate of this site (import your <code>.p12</code> file into the browser and reload)${ctx.site.oidcLogin ? html`, or <a class="button primary" href="${ctx.site.baseUrl}/login?return=${encodeURIComponent(ctx.path)}">sign in with your account</a>` : ''}.</p>`
      : '';
  const content = html`<h1><span class="type">${status >= 400 ? status : 'Outcome'}</span> ${STATUS_TEXT[status] ?? ''}</h1>
${signIn}
<ul class="issues">${(oo.issue ?? []).map((i) => html`<li class="${i.severity}"><strong>${i.severity}</strong> ${i.code}: ${i.diagnostics ?? i.details?.text ?? ''}${i.expression?.length ? html` <code>${i.expression.join(', ')}</code>` : ''}</li>`)}</ul>`;
  return layout(ctx, STATUS_TEXT[status] ?? 'Outcome', content);
}
