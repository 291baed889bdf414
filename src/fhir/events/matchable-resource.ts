// A committed resource version prepared for in-memory matching against Subscription criteria: its index
// rows, plus the identifiers of the resources its literal references point to where a criteria uses a
// reference's `:identifier` (SQL search matches those through the index, so the events must too).
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../../db/pool.ts';
import { IndexedResource, identifierTargets } from '../search/criteria-match.ts';
import type { SearchRequest } from '../search/search-request.ts';
import { identifierRowsOfTargets } from '../store/resource-lookups.ts';

export async function matchableResource(db: Db, resource: Resource, baseUrl: string, criteria: readonly SearchRequest[]): Promise<IndexedResource> {
  const indexed = new IndexedResource(resource, baseUrl);
  const targets = identifierTargets(criteria, indexed);
  if (targets.length) for (const [id, rows] of await identifierRowsOfTargets(db, targets)) indexed.targetIdentifiers.set(id, rows);
  return indexed;
}
