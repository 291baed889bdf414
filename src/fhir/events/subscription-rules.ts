// What a Subscription must look like to be stored (the reference's Subscription authorization rule):
// a websocket channel, payload FHIR JSON, FHIR XML or none, and criteria that are a search this server
// supports; on update criteria, channel type and payload stay as they were. Violations give 403 with
// an OperationOutcome and nothing is stored. (The DSF Subscription profile checks type and payload as
// well, with 422, before these rules run.)
import type { Resource, Subscription } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { isDsfResourceType } from '../model/resource-types.ts';
import { parseSearchRequest, type SearchRequest } from '../search/search-request.ts';
import type { WriteHooks } from '../service/write-hooks.ts';

export const WEBSOCKET_PAYLOADS: readonly string[] = ['application/fhir+json', 'application/fhir+xml'];

/** Parses 'Type?param=value&...' into a search; throws an Error naming the problem. */
export function parseCriteria(criteria: string): SearchRequest {
  const q = criteria.indexOf('?');
  const type = q < 0 ? criteria : criteria.slice(0, q);
  if (!/^[A-Z][A-Za-z]+$/.test(type)) throw new Error(`Subscription.criteria invalid ('${type}' is not a resource type)`);
  if (!isDsfResourceType(type)) throw new Error(`Subscription.criteria invalid (resource '${type}' not supported)`);
  const pairs = q < 0 ? [] : [...new URLSearchParams(criteria.slice(q + 1))];
  try {
    return parseSearchRequest(type, pairs, { strict: true, defaultCount: 1 });
  } catch (e) {
    throw new Error(`Subscription.criteria invalid (${(e as Error).message})`);
  }
}

export function subscriptionProblems(s: Subscription): string[] {
  const problems: string[] = [];
  if (!s.channel) problems.push('Subscription.channel not defined');
  else {
    if (s.channel.type !== 'websocket') problems.push(`Subscription.channel.type not websocket`);
    if (s.channel.payload !== undefined && !WEBSOCKET_PAYLOADS.includes(s.channel.payload)) {
      problems.push(`Subscription.channel.payload not ${WEBSOCKET_PAYLOADS.join(' or ')}`);
    }
  }
  if (typeof s.criteria !== 'string' || !s.criteria) problems.push('Subscription.criteria not defined');
  else {
    try {
      parseCriteria(s.criteria);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return problems;
}

function modificationProblems(next: Subscription, previous: Subscription): string[] {
  const problems: string[] = [];
  if (next.criteria !== previous.criteria) problems.push('Subscription.criteria may not change');
  if (next.channel?.type !== previous.channel?.type) problems.push('Subscription.channel.type may not change');
  if (next.channel?.payload !== previous.channel?.payload) problems.push('Subscription.channel.payload may not change');
  return problems;
}

export function subscriptionRules(): WriteHooks {
  return {
    async beforeWrite(_ctx, _client, resource: Resource, existing?: Resource) {
      if (resource.resourceType !== 'Subscription') return resource;
      const problems = subscriptionProblems(resource);
      if (existing?.resourceType === 'Subscription') problems.push(...modificationProblems(resource, existing));
      if (problems.length) throw new FhirError(403, problems.map((diagnostics) => ({ severity: 'error', code: 'forbidden', diagnostics })));
      return resource;
    },
  };
}
