// The JSON a create answers with (the text it stored), byte for byte, for the forms a body's meta takes: the
// default profile put first in meta.profile (or not, when a DSF profile is declared), meta.versionId
// and meta.lastUpdated added at the end of meta or replaced where the body put them, resourceType, id
// and meta first. The expected text is built with object spreads, as the write path built it before
// it copied by assignment (common/spread-with.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

type Json = Record<string, any>;
const DEFAULT_PROFILE = 'http://dsf.dev/fhir/StructureDefinition/patient';
const ID = { system: 'http://example.org/pid', value: 'stored-json' };

/** What the write path makes of a body: the default profile, then the version's order and meta. */
function expected(body: Json, id: string, lastUpdated: string): string {
  const profiles: string[] = body.meta?.profile ?? [];
  const prepared = profiles.some((p) => p.startsWith('http://dsf.dev/fhir/StructureDefinition/')) ? body : { ...body, meta: { ...(body.meta ?? {}), profile: [DEFAULT_PROFILE, ...profiles] } };
  const { resourceType, id: _ignored, meta, ...rest } = prepared;
  return JSON.stringify({ resourceType, id, meta: { ...(meta ?? {}), versionId: '1', lastUpdated }, ...rest });
}

const BODIES: Json[] = [
  { resourceType: 'Patient', meta: TAG_ALL, identifier: [ID], active: true },
  { resourceType: 'Patient', identifier: [ID], meta: TAG_ALL, active: true },
  { active: true, meta: { ...TAG_ALL, profile: ['http://hl7.org/fhir/StructureDefinition/Patient'] }, resourceType: 'Patient', identifier: [ID] },
  { resourceType: 'Patient', meta: { versionId: '7', ...TAG_ALL, lastUpdated: '2020-01-01T00:00:00Z' }, identifier: [ID] },
  { resourceType: 'Patient', meta: { lastUpdated: '2020-01-01T00:00:00Z', source: 'http://example.org/src', ...TAG_ALL }, identifier: [ID] },
  { resourceType: 'Patient', meta: { profile: [DEFAULT_PROFILE], ...TAG_ALL, versionId: 'x' }, id: 'ignored', identifier: [ID] },
];

test('a create stores and answers the JSON the spreads of the write path gave, for every form of meta', async () => {
  for (const body of BODIES) {
    const r = await site.client.post('/Patient', body);
    assert.equal(r.status, 201, r.body);
    const text = expected(body, r.json.id, r.json.meta.lastUpdated);
    assert.equal(r.body, text, JSON.stringify(body));
    // PostgreSQL's jsonb keeps the content, not the key order.
    assert.deepEqual((await site.client.get(`/Patient/${r.json.id}`)).json, JSON.parse(text));
  }
});

test('a create with validation warnings answers them after what it tells, and stores the same JSON', async () => {
  const body = { resourceType: 'Patient', meta: TAG_ALL, extension: [{ url: 'http://example.org/unknown-extension', valueString: 'x' }], identifier: [ID] };
  const told = await site.client.post('/Patient', body, { prefer: 'return=OperationOutcome' });
  assert.equal(told.status, 201, told.body);
  assert.deepEqual(told.json, {
    resourceType: 'OperationOutcome',
    issue: [
      { severity: 'information', code: 'informational', diagnostics: '201' },
      { severity: 'warning', code: 'not-found', diagnostics: 'Unknown extension http://example.org/unknown-extension', expression: ['Patient.extension[0]'] },
    ],
  });
  const r = await site.client.post('/Patient', body);
  assert.equal(r.status, 201);
  assert.equal(r.body, expected(body, r.json.id, r.json.meta.lastUpdated));
});
