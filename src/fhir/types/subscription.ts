// Subscription: what it must look like to be stored, whoever writes it (the reference's Subscription
// authorization rule): a websocket channel, payload FHIR JSON, FHIR XML or none, and criteria that are a
// search this server supports; on update criteria, channel type and payload stay as they were.
// Violations give 403 with an OperationOutcome and nothing is stored. (The DSF Subscription profile
// checks type and payload as well, with 422, after these rules.) Criteria, type and payload are unique.
import type { Subscription } from '@medplum/fhirtypes';
import { isDsfResourceType } from '../model/resource-types.ts';
import { parseSearchRequest, type SearchRequest } from '../search/search-request.ts';
import type { ResourceTypeBehaviour } from './behaviour.ts';
import { taggedType } from './tagged-type.ts';

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

/** The identity of a Subscription for conditional writes: criteria, channel type and payload (what its uniqueness key holds). */
function identityCriteria(s: Subscription): string | undefined {
  return new URLSearchParams({ 'criteria:exact': s.criteria ?? '', type: s.channel?.type ?? '', payload: s.channel?.payload ?? '' }).toString();
}

export const subscription: ResourceTypeBehaviour<Subscription> = {
  ...taggedType<Subscription>({
    type: 'Subscription',
    uniqueKeys: (s) => [`subscription:${s.criteria ?? ''}|${s.channel?.type ?? ''}|${s.channel?.payload ?? ''}`],
    identityCriteria,
  }),
  contentProblems: (next, previous) => [...subscriptionProblems(next), ...(previous ? modificationProblems(next, previous) : [])],
};
