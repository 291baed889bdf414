// A store on a database of its own for the type modules' tests: the modules' rules run on their own
// (no HTTP, no hooks), against real PostgreSQL for their look-ups and read conditions.
import type { Organization, Resource } from '@medplum/fhirtypes';
import { migrate } from '../../../src/db/migrate.ts';
import { FHIR_MIGRATIONS } from '../../../src/fhir/store/schema.ts';
import { ResourceStore } from '../../../src/fhir/store/resource-store.ts';
import { canRead } from '../../../src/fhir/store/resource-lookups.ts';
import type { AccessCondition } from '../../../src/fhir/store/access-condition.ts';
import { uniqueKeysOf, writeRuleContext } from '../../../src/fhir/types/registry.ts';
import type { WriteRuleContext } from '../../../src/fhir/types/behaviour.ts';
import type { Identity } from '../../../src/fhir/types/identity.ts';
import type { Site } from '../../../src/fhir/types/site.ts';
import { FhirError } from '../../../src/common/errors.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { ORG_ID, organizationIdentity, practitionerIdentity, PRACTITIONER_ROLE, tagAll } from '../auth/auth-support.ts';
import { localOrganizationRoles } from '../../../src/fhir/types/identity.ts';

export const BASE = 'https://types.test/fhir';
export const LOCAL = 'local.test';
export const SITE: Site = { localOrganizationIdentifier: LOCAL, baseUrl: BASE };

export interface TypeTestStore {
  db: TestDatabase;
  store: ResourceStore;
  /** Stores a resource as the server's own start-up work would (no rules). */
  put<T extends Resource>(resource: T): Promise<T & { id: string }>;
  update<T extends Resource>(resource: T & { id: string }): Promise<T & { id: string }>;
  /** Whether the stored resource meets the read condition (the SQL the store runs for reads and searches). */
  readable(condition: AccessCondition, resource: Resource): Promise<boolean>;
  /** The context write rules run with, for this identity. */
  rules(identity: Identity): WriteRuleContext;
  stop(): Promise<void>;
}

export async function typeTestStore(): Promise<TypeTestStore> {
  const db = await createTestDatabase('dsf_types');
  await migrate(db.pool, 'fhir', FHIR_MIGRATIONS);
  const store = new ResourceStore(db.pool, BASE, { uniqueKeys: uniqueKeysOf });
  return {
    db,
    store,
    put: async (resource) => (await store.transaction((c) => store.create(c, resource))).resource as never,
    update: async (resource) => (await store.transaction((c) => store.update(c, resource))).stored.resource as never,
    readable: (condition, resource) => canRead(db.pool, () => condition, resource.id!, Number(resource.meta!.versionId)),
    rules: (identity) => writeRuleContext(identity, SITE, db.pool),
    stop: () => db.drop(),
  };
}

/** The refusal's message, or undefined when the rule let it pass. */
export async function refusalOf(run: () => Promise<void>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (e) {
    if (e instanceof FhirError && e.status === 403) return e.message;
    throw e;
  }
}

export const organizationResource = (identifier: string, active = true): Organization => ({
  resourceType: 'Organization',
  meta: tagAll(),
  identifier: [{ system: ORG_ID, value: identifier }],
  active,
  name: identifier,
});

/** Identities of stored organisations and of local users. */
export function identities(local: Organization, remote: Organization, other: Organization) {
  return {
    local: organizationIdentity({ organization: local }, true),
    remote: organizationIdentity({ organization: remote }, false),
    other: organizationIdentity({ organization: other }, false),
    user: practitionerIdentity(local, LOCAL, 'user@test.org', [{ system: PRACTITIONER_ROLE, code: 'DIC_USER' }], localOrganizationRoles()),
    admin: practitionerIdentity(local, LOCAL, 'admin@test.org', [{ system: PRACTITIONER_ROLE, code: 'DSF_ADMIN' }], localOrganizationRoles()),
  };
}
