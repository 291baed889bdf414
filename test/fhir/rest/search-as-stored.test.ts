// Search Bundles written from the stored texts of their resources (no parse, no stringify) give exactly
// the bytes of the parsed path: matches, includes, paging links, totals, warnings, page bounds. Decimals,
// references that keep an identifier, types whose content is kept apart, _summary and _elements take
// the parsed path and come out as before. `_pretty=true` takes the parsed path; its Bundle parsed and
// written compactly again is the comparison.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { LOCAL_ORG, ORG_ID, startParitySite, tagAll, type ParitySite } from '../reference-parity/parity-site.ts';

let p: ParitySite;
const SYSTEM = 'http://example.org/search-as-stored';
before(async () => {
  p = await startParitySite();
  for (let i = 0; i < 5; i++) {
    await p.local.create({
      resourceType: 'Patient',
      meta: { tag: [tagAll()] },
      identifier: [{ system: SYSTEM, value: i === 0 ? 'a "quoted", spaced: value \\ ä 😀 \t tab' : `plain-${i}` }, { system: SYSTEM, value: 'all' }],
      name: [{ family: `Family ${i}`, given: ['Given'] }],
      active: true,
      birthDate: '1970-01-0' + (i + 1),
    });
  }
});
after(() => p?.stop());

/** The search as stored and the parsed search: same status and the same JSON bytes. */
async function assertSameAsParsed(path: string, client = p.local): Promise<any> {
  const stored = await client.get(path);
  const parsed = await client.get(`${path}&_pretty=true`);
  assert.equal(stored.status, 200, stored.body);
  assert.equal(stored.headers['content-type'], parsed.headers['content-type']);
  assert.equal(stored.body, JSON.stringify(JSON.parse(parsed.body)), path);
  return JSON.parse(stored.body);
}

/** The stored-text answer of the service for a query (undefined: it took the parsed path). */
async function searchJsonOf(type: string, query: string): Promise<string | undefined> {
  return (await p.site.server.service.searchJson({ strict: false }, p.site.server.pool, type, [...new URLSearchParams(query)])).json;
}

test('searches come from the stored texts, byte for byte what the parsed path sends: matches, paging, includes, warnings, counts', async () => {
  const queries: [string, string][] = [
    ['Patient', `identifier=${SYSTEM}|all`],
    ['Patient', `identifier=${SYSTEM}|all&_count=2&_page=2&_sort=birthdate`],
    ['Patient', `identifier=${SYSTEM}|all&_count=2&_page=9`],
    ['Patient', `identifier=${SYSTEM}|nothing`],
    ['Patient', `identifier=${SYSTEM}|all&_summary=count`],
    ['Patient', `identifier=${SYSTEM}|all&unknown-parameter=1`],
    ['Organization', `identifier=${ORG_ID}|${LOCAL_ORG}&_include=Organization:endpoint&_revinclude=OrganizationAffiliation:participating-organization`],
    ['Endpoint', `_id=${p.ids.localEndpoint}`],
  ];
  for (const [type, query] of queries) {
    const body = await assertSameAsParsed(`/${type}?${query}`);
    assert.ok((await searchJsonOf(type, query)) !== undefined, `${type}?${query} answered from the stored texts`);
    if (query.includes('unknown-parameter')) assert.equal(body.entry.at(-1).search.mode, 'outcome');
    if (query.includes('_include')) assert.deepEqual([...new Set(body.entry.map((e: any) => e.search.mode))], ['match', 'include']);
  }
  const quoted = await assertSameAsParsed(`/Patient?identifier=${SYSTEM}|all&birthdate=1970-01-01`);
  assert.equal(quoted.entry[0].resource.identifier[0].value, 'a "quoted", spaced: value \\ ä 😀 \t tab');
  const paged = await assertSameAsParsed(`/Patient?identifier=${SYSTEM}|all&_count=2`);
  assert.equal(paged.total, 5);
  assert.ok(paged.link.some((l: any) => l.relation === 'next'));
  // Also for the remote organisation's filtered search, and by POST.
  await assertSameAsParsed(`/Organization?identifier=${ORG_ID}|${LOCAL_ORG}&_include=Organization:endpoint`, p.external);
  const posted = await p.local.request('POST', '/Patient/_search', `identifier=${encodeURIComponent(`${SYSTEM}|all`)}`, { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(posted.body, (await p.local.get(`/Patient?identifier=${encodeURIComponent(`${SYSTEM}|all`)}`)).body);
});

test('stored decimals, references with an identifier, _summary and _elements take the parsed path and come out as before', async () => {
  const decimal = await p.storeDirectly({ resourceType: 'Patient', meta: { tag: [tagAll()] }, identifier: [{ system: SYSTEM, value: 'decimal' }], extension: [{ url: 'http://example.org/decimal', valueDecimal: 1.5 }] } as Patient);
  await p.site.server.pool.query(`UPDATE resources SET resource = jsonb_set(resource, '{extension,0,valueDecimal}', '1.50'::jsonb) WHERE id = $1`, [decimal.id]);
  assert.equal(await searchJsonOf('Patient', `identifier=${SYSTEM}|decimal`), undefined);
  assert.equal((await assertSameAsParsed(`/Patient?identifier=${SYSTEM}|decimal`)).entry[0].resource.extension[0].valueDecimal, 1.5);

  await p.storeDirectly({
    resourceType: 'Patient',
    meta: { tag: [tagAll()] },
    identifier: [{ system: SYSTEM, value: 'with-identifier' }],
    managingOrganization: { reference: `Organization/${p.ids.localOrganization}`, identifier: { system: ORG_ID, value: LOCAL_ORG } },
  } as Patient);
  assert.equal(await searchJsonOf('Patient', `identifier=${SYSTEM}|with-identifier`), undefined);
  const cleaned = await assertSameAsParsed(`/Patient?identifier=${SYSTEM}|with-identifier`);
  assert.deepEqual(cleaned.entry[0].resource.managingOrganization, { identifier: { system: ORG_ID, value: LOCAL_ORG } }, 'the literal part is cleaned on output');

  for (const query of [`identifier=${SYSTEM}|all&_summary=true`, `identifier=${SYSTEM}|all&_elements=identifier`]) {
    assert.equal(await searchJsonOf('Patient', query), undefined, query);
    const body = await assertSameAsParsed(`/Patient?${query}`);
    assert.ok(body.entry[0].resource.meta.tag.some((t: any) => t.code === 'SUBSETTED'), query);
  }
});

test('a type whose content is kept apart (Binary) takes the parsed path and has its content put in', async () => {
  const data = Buffer.from('stored apart').toString('base64');
  const created = await p.local.create({ resourceType: 'Binary', meta: { tag: [tagAll()] }, contentType: 'text/plain', data } as never);
  assert.equal(await searchJsonOf('Binary', `_id=${created.id}`), undefined);
  const body = await assertSameAsParsed(`/Binary?_id=${created.id}`);
  assert.equal(body.entry[0].resource.data, data);
});
