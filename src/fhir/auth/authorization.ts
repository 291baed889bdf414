// Authorization as write hooks: the dsf-role of every interaction and type, then the rules of the
// resource's type (types/registry.ts) for creates, updates and deletes, and what every stored resource
// of the type must look like. A context without identity (core resources, initial bundle) passes the
// role and caller rules. Every refusal is a 403 naming its rule.
import { FhirError } from '../../common/errors.ts';
import type { InteractionAction, RequestContext } from '../service/request-context.ts';
import type { WriteHooks } from '../service/write-hooks.ts';
import { hasRole, type DsfRole, type Identity } from '../types/identity.ts';
import { behaviourOf, writeRuleContext } from '../types/registry.ts';
import { refusal } from '../types/refusal.ts';
import { siteOf, type Site } from '../types/site.ts';
import { readAccessFilter } from './read-access.ts';
import type { AccessFilter } from '../store/access-condition.ts';

const ROLE_FOR: Record<InteractionAction, DsfRole> = {
  read: 'READ',
  search: 'SEARCH',
  history: 'HISTORY',
  create: 'CREATE',
  update: 'UPDATE',
  delete: 'DELETE',
  'permanent-delete': 'PERMANENT_DELETE',
};

/** The request-context part the server attaches in context(): the read filter for this identity. */
/** One read-access filter per identity (and site): identities are cached objects, so requests share it (and its SQL, access-sql.ts). */
const filters = new WeakMap<Identity, { config: object; access: AccessFilter }>();

export function authorizationContext(identity: Identity | undefined, config: { organizationIdentifier: string; baseUrl: string }): Pick<RequestContext, 'access'> {
  if (!identity) return {};
  const known = filters.get(identity);
  if (known && known.config === config) return { access: known.access };
  const access = readAccessFilter(identity, siteOf(config));
  filters.set(identity, { config, access });
  return { access };
}

function checkRole(identity: Identity, action: InteractionAction, type: string | undefined): void {
  const role = ROLE_FOR[action];
  const ok = type === undefined ? identity.roles.has(role) : hasRole(identity, role, type);
  if (!ok) throw new FhirError(403, `${identity.displayName} lacks the role ${role}${type ? ` for ${type}` : ''}`, 'forbidden');
  if (action === 'permanent-delete' && !identity.local) throw refusal('Permanent delete', 'only local identities');
}

/** Write hooks enforcing authorization. */
export function authorizationHooks(site: Site): WriteHooks {
  return {
    authorize(ctx, action, type) {
      if (ctx.identity) checkRole(ctx.identity, action, type);
    },
    async beforeWrite(ctx, client, resource, existing) {
      const rules = behaviourOf(resource.resourceType);
      if (ctx.identity) {
        const rc = writeRuleContext(ctx.identity, site, client);
        if (existing) await rules.authorizeUpdate(rc, existing, resource);
        else await rules.authorizeCreate(rc, resource);
      }
      const problems = rules.contentProblems?.(resource, existing) ?? [];
      if (problems.length) throw new FhirError(403, problems.map((diagnostics) => ({ severity: 'error', code: 'forbidden', diagnostics })));
      return resource;
    },
    async beforeDelete(ctx, client, existing) {
      if (ctx.identity) await behaviourOf(existing.resourceType).authorizeDelete(writeRuleContext(ctx.identity, site, client), existing);
    },
  };
}
