// The query string is parsed once per request (parseQueryString, fastify's parser): the routes' ordered
// pairs are the ones URLSearchParams gives, repeated keys and order kept, and each caller gets its own copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { parseQueryString, queryPairs } from '../../../src/fhir/rest/routes.ts';

const request = (url: string, query: unknown) => ({ url, query }) as unknown as FastifyRequest;

test('pairs kept by the parser are those of the query string, in order, as a copy per caller', () => {
  const qs = 'identifier=a%7Cb&identifier=c&_format=xml&name=%C3%A4+x&_format=json';
  const parsed = parseQueryString(qs);
  assert.deepEqual({ ...parsed }, { identifier: 'c', _format: 'json', name: 'ä x' }, 'the last value of each key, for _format and _pretty');
  const req = request(`/fhir/Patient?${qs}`, parsed);
  const pairs = queryPairs(req);
  assert.deepEqual(pairs, [...new URLSearchParams(qs)]);
  pairs.push(['_count', '1']);
  assert.deepEqual(queryPairs(req), [...new URLSearchParams(qs)], 'a change to one copy is not seen by the next caller');
  // Without the parser's pairs (a request refused before routing) the URL is parsed.
  assert.deepEqual(queryPairs(request(`/fhir/Patient?${qs}`, undefined)), [...new URLSearchParams(qs)]);
  assert.deepEqual(queryPairs(request('/fhir/Patient', {})), []);
});

test('an empty query string parses to an empty object and no pairs', () => {
  const parsed = parseQueryString('');
  assert.deepEqual(parsed, {});
  assert.deepEqual(queryPairs(request('/fhir/Patient/1', parsed)), []);
  assert.deepEqual(queryPairs(request('/fhir/Patient/1?', parsed)), []);
});
