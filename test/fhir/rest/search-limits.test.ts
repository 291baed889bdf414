// Limits of one search: the number of parameters (400 beyond, naming the limit), and the bytes of a
// page (it ends early with a `next` link that continues where it stopped).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

const MAX_PAGE_BYTES = 64 * 1024;
const SYSTEM = 'http://example.org/sid/search-limits';
let site: TestSite;
/** Ids of the big Patients in the order a search sorted by _id returns them. */
let bigIds: string[];

before(async () => {
  site = await startTestSite({ config: { limits: { maxSearchParameters: 6, maxSearchValues: 10, maxPageBytes: MAX_PAGE_BYTES } } });
  bigIds = [];
  for (let i = 0; i < 12; i++) {
    // About 20 KiB each: three fit in a page.
    const p = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: SYSTEM, value: `big-${i}` }], name: [{ text: `${i}`.padEnd(20 * 1024, 'x') }] });
    bigIds.push(p.id);
  }
  bigIds.sort();
});
after(() => site?.stop());

function assertTooMany(r: { status: number; json: any; body: string }): void {
  assert.equal(r.status, 400, r.body);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  assert.match(r.json.issue[0].diagnostics, /at most 6 .*DSF_FHIR_MAX_SEARCH_PARAMETERS/);
}

test('more search parameters than allowed: 400 naming the limit, by GET, POST and in conditional criteria', async () => {
  const seven = Array.from({ length: 7 }, (_, i) => `identifier=${SYSTEM}|v${i}`).join('&');
  assertTooMany(await site.client.get(`/Patient?${seven}`));
  assertTooMany(await site.client.post('/Patient/_search', seven, { 'content-type': 'application/x-www-form-urlencoded' }));
  // OR-ed values are cheap, but not free: they have a limit of their own.
  const values = (n: number) => `identifier=${Array.from({ length: n }, (_, i) => `v${i}`).join(',')}`;
  assert.equal((await site.client.get(`/Patient?${values(10)}`)).status, 200);
  const tooManyValues = await site.client.get(`/Patient?${values(6)}&${values(5)}`);
  assert.equal(tooManyValues.status, 400, tooManyValues.body);
  assert.match(tooManyValues.json.issue[0].diagnostics, /11 values.*at most 10 .*DSF_FHIR_MAX_SEARCH_VALUES/);
  const before = (await site.db.pool.query("SELECT count(*)::int AS n FROM resources WHERE type = 'Patient'")).rows[0].n;
  assertTooMany(await site.client.post('/Patient', { resourceType: 'Patient', meta: TAG_ALL }, { 'if-none-exist': seven }));
  assert.equal((await site.db.pool.query("SELECT count(*)::int AS n FROM resources WHERE type = 'Patient'")).rows[0].n, before);
  // At the limit, and with the format parameters (which cost nothing), it is answered.
  const six = Array.from({ length: 6 }, (_, i) => `identifier=${SYSTEM}|v${i}`).join('&');
  const ok = await site.client.get(`/Patient?${six}&_format=json&_pretty=false`);
  assert.equal(ok.status, 200, ok.body);
});

/** Follows `next` links from a first page; returns every page. */
async function allPages(first: string, accept = 'application/fhir+json'): Promise<any[]> {
  const pages: any[] = [];
  let url: string | undefined = first;
  while (url) {
    assert.ok(pages.length < 20, 'too many pages');
    const r = await site.client.get(url, { accept });
    assert.equal(r.status, 200, r.body.slice(0, 500));
    pages.push(r);
    url = r.json?.link?.find((l: any) => l.relation === 'next')?.url;
  }
  return pages;
}

test('a search page ends at its byte bound with a next link that continues exactly', async () => {
  const pages = await allPages(`/Patient?identifier=${encodeURIComponent(`${SYSTEM}|`)}&_sort=_id&_count=10`);
  const ids = pages.flatMap((p) => p.json.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.id));
  assert.deepEqual(ids, bigIds, 'every match once, in order');
  for (const p of pages) {
    assert.equal(p.json.total, 12);
    assert.ok(Buffer.byteLength(p.body) <= MAX_PAGE_BYTES + 4096, `page of ${Buffer.byteLength(p.body)} bytes`);
    assert.ok(p.json.entry.length <= 3);
  }
  assert.match(pages[1].json.link.find((l: any) => l.relation === 'self').url, /_offset=3/);
  // Without the bound the same query would have given 10 on the first page.
  assert.ok(pages.length >= 4);
});

test('a single resource larger than the bound still comes, alone', async () => {
  const huge = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: `${SYSTEM}/huge`, value: 'huge' }], name: [{ text: 'h'.repeat(100 * 1024) }] });
  const small = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: `${SYSTEM}/huge`, value: 'huge' }], active: true });
  const pages = await allPages(`/Patient?identifier=${encodeURIComponent(`${SYSTEM}/huge|huge`)}&_sort=_id`);
  const ids = pages.flatMap((p) => p.json.entry.map((e: any) => e.resource.id));
  assert.deepEqual(ids, [huge.id, small.id].sort());
  assert.equal(pages.find((p) => p.json.entry[0].resource.id === huge.id).json.entry.length, 1);
});

test('XML pages are bounded the same way', async () => {
  const first = await site.client.get(`/Patient?identifier=${encodeURIComponent(`${SYSTEM}|`)}&_sort=_id&_count=10&_format=xml`);
  assert.equal(first.status, 200);
  assert.equal((first.body.match(/<entry>/g) ?? []).length, 3);
  assert.match(first.body, /<relation value="next"\/><url value="[^"]*_offset=3/);
});

test('history pages are bounded too, and their next links continue exactly', async () => {
  const ids: string[] = [];
  const pages = await allPages(`/Patient/_history?_count=50`);
  for (const p of pages) {
    assert.ok(Buffer.byteLength(p.body) <= MAX_PAGE_BYTES + 110 * 1024, `page of ${Buffer.byteLength(p.body)} bytes`);
    ids.push(...p.json.entry.map((e: any) => `${e.resource?.id}/${e.response.etag}`));
  }
  assert.equal(ids.length, pages[0].json.total);
  assert.equal(new Set(ids).size, ids.length, 'no version twice');
  for (const id of bigIds) assert.ok(ids.includes(`${id}/W/"1"`));
});
