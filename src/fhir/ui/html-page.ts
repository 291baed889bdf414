// The HTML answer of any FHIR route: a Bundle, an OperationOutcome or a single resource page.
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { SafeHtml } from '../../common/web/html.ts';
import { bundlePage } from './bundle-view.ts';
import { outcomePage } from './outcome-view.ts';
import { resourcePage } from './resource-view.ts';
import type { PageContext } from './ui-context.ts';

export function htmlPage(ctx: PageContext, status: number, resource: Resource | OperationOutcome): SafeHtml {
  if (resource.resourceType === 'Bundle' && ((resource as Bundle).type === 'searchset' || (resource as Bundle).type === 'history')) return bundlePage(ctx, resource as Bundle);
  if (resource.resourceType === 'OperationOutcome' && (status >= 400 || !resource.id)) return outcomePage(ctx, status, resource as OperationOutcome);
  return resourcePage(ctx, resource as Resource);
}
