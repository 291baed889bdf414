// The allow-list check on its own: which Bundle entries a member accepts (conditional updates and deletes
// of Organization, Endpoint, OrganizationAffiliation) and what it says about the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BundleEntry } from '@medplum/fhirtypes';
import { entryProblems } from '../../plugins/allow-list/src/check-allow-list.ts';
import { parseBundleUrl } from '../../plugins/allow-list/src/download-allow-list.ts';

const URL = 'https://ttp.test/fhir/Bundle/1';
const org = { resourceType: 'Organization', active: true } as const;

test('accepted: conditional PUT of the three types, DELETE of them', () => {
  const ok: BundleEntry[] = [
    { resource: org, request: { method: 'PUT', url: 'Organization?identifier=http://dsf.dev/sid/organization-identifier|a.test' } },
    { resource: { resourceType: 'Endpoint' } as never, request: { method: 'PUT', url: 'Endpoint?identifier=http://dsf.dev/sid/endpoint-identifier|a.test' } },
    { resource: { resourceType: 'OrganizationAffiliation' } as never, request: { method: 'PUT', url: 'OrganizationAffiliation?primary-organization:identifier=x|p&participating-organization:identifier=x|m' } },
    { request: { method: 'DELETE', url: 'Endpoint?identifier=http://dsf.dev/sid/endpoint-identifier|old.test' } },
    { request: { method: 'DELETE', url: 'OrganizationAffiliation/5' } },
  ];
  for (const e of ok) assert.deepEqual(entryProblems(e, URL), [], JSON.stringify(e.request));
});

test('refused: other types, other methods, PUT by id or of another type, deletes of other types; every problem named', () => {
  assert.deepEqual(entryProblems({ resource: org, request: { method: 'PUT', url: 'Organization/1' } }, URL), [
    `Request URL 'Organization/1' is no conditional update of the entry's Organization in Bundle with id '${URL}'`,
  ]);
  assert.deepEqual(entryProblems({ resource: org, request: { method: 'PUT', url: 'Endpoint?identifier=x|y' } }, URL).length, 1);
  assert.deepEqual(entryProblems({ resource: { resourceType: 'Task' } as never, request: { method: 'POST', url: 'Task' } }, URL), [
    `Resource of type 'Task' not allowed in Bundle with id '${URL}'`,
    `Request with Method 'POST' not allowed in Bundle with id '${URL}'`,
  ]);
  assert.deepEqual(entryProblems({ request: { method: 'DELETE', url: 'Task?status=draft' } }, URL), [`Resource delete of 'Task?status=draft' not allowed in Bundle with id '${URL}'`]);
  assert.deepEqual(entryProblems({ resource: org }, URL), [`Request with Method 'none' not allowed in Bundle with id '${URL}'`]);
});

test('the allow_list input must be an absolute Bundle URL', () => {
  assert.deepEqual(parseBundleUrl('https://ttp.test/fhir/Bundle/abc/_history/3'), { base: 'https://ttp.test/fhir', id: 'abc', version: '3' });
  assert.deepEqual(parseBundleUrl('https://ttp.test/fhir/Bundle/abc'), { base: 'https://ttp.test/fhir', id: 'abc' });
  assert.throws(() => parseBundleUrl('Bundle/abc'), /no absolute Bundle URL/);
});
