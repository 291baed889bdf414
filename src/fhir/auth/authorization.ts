// Authorization as write hooks and a read filter: role checks per interaction and type, the
// Task / QuestionnaireResponse rules, "only local identities write tagged resources", valid
// read-access tags, and the SQL filter attached to each request's context.
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { FhirError } from '../../common/errors.ts';
import type { InteractionAction, RequestContext } from '../service/request-context.ts';
import type { WriteHooks } from '../service/write-hooks.ts';
import { hasRole, type DsfRole, type Identity } from '../types/identity.ts';
import { readAccessFilter, readAccessTagProblem, securityContextProblem, storeExistenceChecks, readAccessTagsOf } from './read-access.ts';
import { checkTaskCreate, checkTaskDelete, checkTaskUpdate } from './task-rules.ts';
import { checkQuestionnaireResponseCreate, checkQuestionnaireResponseDelete, checkQuestionnaireResponseUpdate } from './questionnaire-response-rules.ts';
import type { AuthorizationSite } from './local-organization.ts';
import { immutableFieldChanges, requiredContentProblems } from './resource-rules.ts';

export type { AuthorizationSite } from './local-organization.ts';

const ROLE_FOR: Record<InteractionAction, DsfRole> = {
  read: 'READ',
  search: 'SEARCH',
  history: 'HISTORY',
  create: 'CREATE',
  update: 'UPDATE',
  delete: 'DELETE',
  'permanent-delete': 'PERMANENT_DELETE',
};

const deny = (rule: string) => new FhirError(403, rule, 'forbidden');

/** The site facts authorization needs, from the server configuration. */
export function authorizationSite(config: { organizationIdentifier: string; baseUrl: string }): AuthorizationSite {
  return { localOrganizationIdentifier: config.organizationIdentifier, baseUrl: config.baseUrl };
}

/** The request-context part the lead attaches in context(): the read filter for this identity. */
export function authorizationContext(identity: Identity | undefined, config: { organizationIdentifier: string }): Pick<RequestContext, 'access'> {
  return identity ? { access: readAccessFilter(identity, config.organizationIdentifier) } : {};
}

function checkRole(identity: Identity, action: InteractionAction, type: string | undefined): void {
  const role = ROLE_FOR[action];
  const ok = type === undefined ? identity.roles.has(role) : hasRole(identity, role, type);
  if (!ok) throw deny(`${identity.displayName} lacks the role ${role}${type ? ` for ${type}` : ''}`);
  if (action === 'permanent-delete' && !identity.local) throw deny('Permanent delete: only local identities');
}

async function checkTaggedWrite(identity: Identity, client: pg.PoolClient, site: AuthorizationSite, resource: Resource, existing: Resource | undefined): Promise<void> {
  const type = resource.resourceType;
  const verb = existing ? 'update' : 'create';
  if (!identity.local) throw deny(`${type} ${verb}: only local identities may write ${type} resources`);
  const missing = requiredContentProblems(resource);
  if (missing.length) throw deny(`${type} ${verb}: ${missing.join('; ')}`);
  const changed = existing ? immutableFieldChanges(existing, resource, site.baseUrl) : [];
  if (changed.length) throw deny(`${type} update: ${changed.join(', ')} may not change`);
  const tagProblem = await readAccessTagProblem(resource, storeExistenceChecks(client));
  if (type === 'Binary') {
    const hasContext = (resource as { securityContext?: unknown }).securityContext !== undefined;
    const contextProblem = hasContext ? await securityContextProblem(client, resource, site.baseUrl) : 'no securityContext';
    const tagged = readAccessTagsOf(resource).length > 0;
    if (!tagProblem && !contextProblem) throw deny(`Binary ${verb}: a Binary has either a valid read-access tag or a valid securityContext, not both`);
    if (tagProblem && contextProblem) throw deny(`Binary ${verb}: ${tagged || !hasContext ? tagProblem : contextProblem}`);
    return;
  }
  if (tagProblem) throw deny(`${type} ${verb}: invalid read-access tags: ${tagProblem}`);
}

/** Write hooks enforcing authorization; a context without identity (start-up work) passes everything. */
export function authorizationHooks(site: AuthorizationSite): WriteHooks {
  return {
    authorize(ctx, action, type) {
      if (ctx.identity) checkRole(ctx.identity, action, type);
    },
    async beforeWrite(ctx, client, resource, existing) {
      const identity = ctx.identity;
      if (!identity) return resource;
      switch (resource.resourceType) {
        case 'Task':
          if (existing) await checkTaskUpdate(client, site, identity, existing as never, resource as never);
          else await checkTaskCreate(client, site, identity, resource as never);
          break;
        case 'QuestionnaireResponse':
          if (existing) checkQuestionnaireResponseUpdate(identity, existing as never, resource as never);
          else checkQuestionnaireResponseCreate(identity, resource as never);
          break;
        default:
          await checkTaggedWrite(identity, client, site, resource, existing);
      }
      return resource;
    },
    async beforeDelete(ctx, _client, existing) {
      const identity = ctx.identity;
      if (!identity) return;
      if (existing.resourceType === 'Task') checkTaskDelete(identity, existing as never);
      else if (existing.resourceType === 'QuestionnaireResponse') checkQuestionnaireResponseDelete(identity);
      else if (!identity.local) throw deny(`${existing.resourceType} delete: only local identities may delete ${existing.resourceType} resources`);
    },
  };
}
