// The store look-ups reference checks need. They run on the write's own connection, so resources
// written earlier in the same transaction count, and they see every resource: a reference check is not
// limited by what the writer may read (as in the reference, which searches without a user filter).
import type { NamingSystem } from '@medplum/fhirtypes';
import type { Db } from '../../db/pool.ts';
import { currentByCanonical, currentContaining, currentExists, idsByIdentifier, liveVersionExists } from '../store/resource-lookups.ts';
import { activeEndpointWithAddress } from '../store/organization-lookups.ts';

const CHECK_LOGICAL_REFERENCE = 'http://dsf.dev/fhir/StructureDefinition/extension-check-logical-reference';

export interface ReferenceLookups {
  /** A current, not deleted resource (or this version of one that is not deleted). */
  exists(type: string, id: string, version?: string): Promise<boolean>;
  /** A draft or active NamingSystem whose uniqueId has this value and extension-check-logical-reference = true. */
  identifierSystemIsResolvable(system: string): Promise<boolean>;
  /** Ids of current resources of the type with this identifier (at most two: one is all that matters). */
  byIdentifier(type: string, system: string, value: string): Promise<string[]>;
  /** Number of current resources of the type with this canonical url (and version, when given). */
  canonicalMatches(type: string, url: string, version: string | undefined): Promise<number>;
  /** Whether an active Endpoint has exactly this address (the base URL of another server). */
  activeEndpointWithAddress(base: string): Promise<boolean>;
}

export function storeReferenceLookups(db: Db): ReferenceLookups {
  return {
    async exists(type, id, version) {
      if (version === undefined) return currentExists(db, type, id);
      return /^[1-9][0-9]{0,8}$/.test(version) && liveVersionExists(db, type, id, Number(version));
    },
    async identifierSystemIsResolvable(system) {
      const pattern = { uniqueId: [{ value: system, modifierExtension: [{ url: CHECK_LOGICAL_REFERENCE, valueBoolean: true }] }] };
      const namingSystems = await currentContaining<NamingSystem>(db, 'NamingSystem', pattern);
      return namingSystems.some((ns) => ns.status === 'draft' || ns.status === 'active');
    },
    byIdentifier: (type, system, value) => idsByIdentifier(db, type, system, value),
    async canonicalMatches(type, url, version) {
      return (await currentByCanonical(db, type, url, version)).length;
    },
    activeEndpointWithAddress: (base) => activeEndpointWithAddress(db, [base, `${base}/`]),
  };
}
