// The response format by Accept header is remembered per header text (representation.ts): the same
// answers as parsing each time, and a bounded memo however many distinct headers clients send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { rememberedAcceptFormats, responseFormat } from '../../../src/fhir/rest/representation.ts';
import { formatFromAccept } from '../../../src/fhir/model/formats.ts';

const request = (accept: string | undefined, query: Record<string, string> = {}) => ({ headers: { accept }, query, url: '/fhir/Patient' }) as unknown as FastifyRequest;

test('the remembered format of an Accept header is the parsed one, asked once or many times', () => {
  const accepts = ['application/fhir+json', 'application/fhir+xml', 'application/fhir+xml;q=0.5, application/fhir+json', 'text/plain', '*/*', 'application/json;q=0.2, application/xml;q=0.9'];
  for (let round = 0; round < 3; round++) {
    for (const accept of accepts) assert.equal(responseFormat(request(accept)), formatFromAccept(accept) === 'xml' ? 'xml' : 'json', accept);
  }
  // _format wins over the remembered Accept.
  assert.equal(responseFormat(request('application/fhir+json', { _format: 'xml' })), 'xml');
  assert.equal(responseFormat(request('application/fhir+json')), 'json');
});

test('the memo of Accept headers stays bounded', () => {
  for (let i = 0; i < 1000; i++) responseFormat(request(`application/fhir+json, application/x-${i}`));
  assert.ok(rememberedAcceptFormats() <= 64, `${rememberedAcceptFormats()} remembered`);
  assert.ok(rememberedAcceptFormats() > 0);
});
