// The same-origin rule of the pages' state changes (src/common/web/same-origin.ts), case by case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changesState, crossSiteRefusal, isFormContentType, ownOrigins } from '../../src/common/web/same-origin.ts';

const own = ownOrigins('https://dsf.example.org:443/fhir', 'localhost:8443');

test('own origins: the external URL (default port dropped) and https://<Host>', () => {
  assert.deepEqual(own, ['https://dsf.example.org', 'https://localhost:8443']);
  assert.deepEqual(ownOrigins('https://dsf.example.org/fhir', undefined), ['https://dsf.example.org']);
  // A Host that is no host name adds no origin.
  assert.deepEqual(ownOrigins('https://dsf.example.org/fhir', 'a b:c'), ['https://dsf.example.org']);
});

test('Origin decides when present; then Sec-Fetch-Site; without either only non-browser requests pass', () => {
  assert.equal(crossSiteRefusal({ origin: 'https://dsf.example.org' }, own, true), undefined);
  assert.equal(crossSiteRefusal({ origin: 'https://localhost:8443' }, own, true), undefined);
  assert.match(crossSiteRefusal({ origin: 'https://dsf.example.org.evil.example' }, own, false)!, /evil/);
  assert.match(crossSiteRefusal({ origin: 'http://dsf.example.org' }, own, false)!, /http:\/\/dsf/);
  assert.match(crossSiteRefusal({ origin: 'null' }, own, false)!, /opaque origin/);
  // Origin wins over a Sec-Fetch-Site that says otherwise.
  assert.ok(crossSiteRefusal({ origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }, own, false));
  assert.equal(crossSiteRefusal({ 'sec-fetch-site': 'same-origin' }, own, true), undefined);
  for (const site of ['same-site', 'cross-site', 'none']) assert.ok(crossSiteRefusal({ 'sec-fetch-site': site }, own, false), site);
  assert.equal(crossSiteRefusal({}, own, false), undefined);
  assert.match(crossSiteRefusal({}, own, true)!, /without Origin/);
});

test('form content types and state-changing methods', () => {
  for (const t of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'TEXT/PLAIN;charset=UTF-8']) assert.equal(isFormContentType(t), true, t);
  for (const t of ['application/fhir+json', 'application/json', 'application/fhir+xml', undefined]) assert.equal(isFormContentType(t), false, String(t));
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'post']) assert.equal(changesState(m), true, m);
  for (const m of ['GET', 'HEAD', 'OPTIONS', undefined]) assert.equal(changesState(m), false, String(m));
});
