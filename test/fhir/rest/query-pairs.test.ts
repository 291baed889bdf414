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

test('the parser gives the pairs URLSearchParams gives, for any query string', () => {
  // Deterministic strings over an alphabet with every character the parser could treat differently.
  const alphabet = ['a', 'b', '=', '&', '&', '%', '%7C', '%C3%A4', '%zz', '+', '?', ' ', 'ä', '|', ',', ':', '/', '#', '\u00ff', '\ud800', '_'];
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const strings = ['a', 'a=', '=a', '&', '&&a=b&&', 'a=b=c', '?a=b', 'a==', 'identifier=http://dsf.dev/sid/organization-identifier|org-1&_count=5'];
  for (let n = 0; n < 5000; n++) strings.push(Array.from({ length: 1 + (next() % 12) }, () => alphabet[next() % alphabet.length]).join(''));
  for (const qs of strings) {
    const parsed = parseQueryString(qs);
    assert.deepEqual(queryPairs(request(`/fhir/Patient?${qs}`, parsed)), [...new URLSearchParams(qs)], JSON.stringify(qs));
    assert.deepEqual({ ...parsed }, Object.fromEntries(new URLSearchParams(qs)), JSON.stringify(qs));
  }
});
