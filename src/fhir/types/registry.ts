// Which behaviour each resource type has: the modules of the types with rules of their own, and the
// tagged default for every other type. Authorization, read access, write preparation, uniqueness,
// conditional identity and content storage all ask here.
import type { Resource } from '@medplum/fhirtypes';
import { isServedResourceType } from '../model/resource-types.ts';
import { byType, NONE, type AccessCondition } from '../store/access-condition.ts';
import type { ReadAccessContext, ResourceTypeBehaviour, WriteRuleContext } from './behaviour.ts';
import type { Identity } from './identity.ts';
import type { Site } from './site.ts';
import { tagsGrant } from './read-access-tags.ts';
import { taggedType } from './tagged-type.ts';
import { task } from './task.ts';
import { questionnaireResponse } from './questionnaire-response.ts';
import { binary } from './binary.ts';
import { organization } from './organization.ts';
import { endpoint } from './endpoint.ts';
import { organizationAffiliation } from './organization-affiliation.ts';
import { subscription } from './subscription.ts';
import { namingSystem } from './naming-system.ts';
import { canonicalResources } from './canonical-resources.ts';

const MODULES = [task, questionnaireResponse, binary, organization, endpoint, organizationAffiliation, subscription, namingSystem, ...canonicalResources] as ResourceTypeBehaviour[];

const byName = new Map<string, ResourceTypeBehaviour>(MODULES.map((m) => [m.type, m]));

/** The behaviour of a type (the tagged default for types without a module). */
export function behaviourOf(type: string): ResourceTypeBehaviour {
  let behaviour = byName.get(type);
  if (!behaviour) {
    behaviour = taggedType({ type });
    // Only types this server serves are kept: a type name may come from a request.
    if (isServedResourceType(type)) byName.set(type, behaviour);
  }
  return behaviour;
}

/** The types that have a read rule of their own. */
const OWN_READ_RULES = MODULES.filter((m) => m.readAccess);

function readAccessContext(identity: Identity, site: Site): ReadAccessContext {
  const ctx: ReadAccessContext = {
    identity,
    site,
    tags: tagsGrant(identity),
    securityContextTargets: () =>
      byType(
        Object.fromEntries(MODULES.filter((m) => !m.securityContextTarget || m.readAccess).map((m) => [m.type, m.securityContextTarget ? m.readAccess!(ctx) : NONE])),
        ctx.tags,
      ),
  };
  return ctx;
}

/** What the identity may read of one type. */
export function readAccessOf(type: string, identity: Identity, site: Site): AccessCondition {
  const ctx = readAccessContext(identity, site);
  return behaviourOf(type).readAccess?.(ctx) ?? ctx.tags;
}

/** What the identity may read of any type: each type with a rule of its own by that rule, the others by their tags. */
export function readAccessOfAnyType(identity: Identity, site: Site): AccessCondition {
  const ctx = readAccessContext(identity, site);
  return byType(Object.fromEntries(OWN_READ_RULES.map((m) => [m.type, m.readAccess!(ctx)])), ctx.tags);
}

/** The context write rules run with. */
export function writeRuleContext(identity: Identity, site: Site, db: WriteRuleContext['db']): WriteRuleContext {
  return { identity, site, db, canBeSecurityContext: (type) => behaviourOf(type).securityContextTarget };
}

/** The uniqueness keys of a resource (the store enforces them). */
export function uniqueKeysOf(resource: Resource): string[] {
  return [...new Set(behaviourOf(resource.resourceType).uniqueKeys(resource))];
}

/** The conditional-create criteria that identify a resource, if its type has any. */
export function identityCriteriaOf(resource: Resource): string | undefined {
  return behaviourOf(resource.resourceType).identityCriteria(resource);
}

/** The default DSF profile of a type (none for Task and for types DSF does not serve). */
export function defaultProfileOf(type: string): string | undefined {
  return behaviourOf(type).defaultProfile;
}
