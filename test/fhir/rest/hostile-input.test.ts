// Hostile or broken input gets a 4xx OperationOutcome (never a 500) and leaves nothing stored; data
// stored before these checks existed still renders as XML.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(() => site?.stop());

async function patientCount(): Promise<number> {
  return (await site.db.pool.query("SELECT count(*)::int AS n FROM resources WHERE type = 'Patient'")).rows[0].n;
}

type Answer = { status: number; json?: any; body: string; headers?: Record<string, unknown> };

function assertOutcome(r: Answer, status: number, pattern?: RegExp): void {
  assert.equal(r.status, status, r.body);
  const json = r.json ?? JSON.parse(r.body);
  assert.equal(json.resourceType, 'OperationOutcome', r.body);
  if (pattern) assert.match(JSON.stringify(json.issue), pattern);
}

/** A raw JSON text body (the test client would re-encode objects). */
const postJson = (path: string, text: string, headers: Record<string, string> = {}) => site.client.post(path, text, headers);

test('NUL in a JSON string or property name: 400 naming the character and where, nothing stored', async () => {
  const before = await patientCount();
  assertOutcome(await postJson('/Patient', `{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"name":[{"family":"a\\u0000b"}]}`), 400, /U\+0000.*Patient\.name\[0\]\.family/);
  assertOutcome(await postJson('/Patient', `{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"act\\u0000ive":true}`), 400, /U\+0000/);
  assert.equal(await patientCount(), before);
});

test('a lone surrogate in a JSON string: 400', async () => {
  const before = await patientCount();
  assertOutcome(await postJson('/Patient', `{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"name":[{"family":"x\\ud800y"}]}`), 400, /surrogate/);
  assertOutcome(await postJson('/Patient', `{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"name":[{"family":"\\udc00"}]}`), 400, /surrogate/);
  assert.equal(await patientCount(), before);
});

test('control characters in JSON and XML: 400; tab, carriage return and line feed are fine', async () => {
  const before = await patientCount();
  assertOutcome(await postJson('/Patient', `{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"name":[{"text":"bell\\u0007"}]}`), 400, /U\+0007/);
  assertOutcome(await postJson('/Patient', `{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"name":[{"text":"x\\uffffy"}]}`), 400, /U\+FFFF/);
  const xml = (value: string) =>
    `<Patient xmlns="http://hl7.org/fhir"><meta><tag><system value="http://dsf.dev/fhir/CodeSystem/read-access-tag"/><code value="ALL"/></tag></meta><name><text value="${value}"/></name></Patient>`;
  assertOutcome(await site.client.post('/Patient', xml('bell&#7;'), { 'content-type': 'application/fhir+xml' }), 400);
  assertOutcome(await site.client.post('/Patient', xml('nul&#0;'), { 'content-type': 'application/fhir+xml' }), 400);
  assert.equal(await patientCount(), before);
  const ok = await postJson('/Patient', `{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"name":[{"text":"a\\tb\\r\\nc"}]}`);
  assert.equal(ok.status, 201, ok.body);
});

test('XML output never fails on stored data that XML cannot carry', async () => {
  // Written directly, as data stored before the input checks existed would be.
  const id = randomUUID();
  const resource = { resourceType: 'Patient', id, meta: { ...TAG_ALL, versionId: '1', lastUpdated: new Date().toISOString() }, name: [{ text: 'bell\u0007 and \u0001' }] };
  await site.db.pool.query("INSERT INTO resources (id, version, type, last_updated, deleted, current, resource) VALUES ($1, 1, 'Patient', now(), false, true, $2)", [id, resource]);
  const xml = { accept: 'application/fhir+xml' };
  const read = await site.client.get(`/Patient/${id}`, xml);
  assert.equal(read.status, 200, read.body);
  assert.match(read.body, /<text value="bell\uFFFD and \uFFFD"\/>/);
  const search = await site.client.get(`/Patient?_id=${id}`, xml);
  assert.equal(search.status, 200, search.body);
  assert.match(search.body, /bell\uFFFD/);
  const history = await site.client.get(`/Patient/${id}/_history`, xml);
  assert.equal(history.status, 200, history.body);
  assert.match(history.body, /bell\uFFFD/);
  const narrative = { ...resource, id: randomUUID(), text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">a\u0002b</div>' } };
  await site.db.pool.query("INSERT INTO resources (id, version, type, last_updated, deleted, current, resource) VALUES ($1, 1, 'Patient', now(), false, true, $2)", [narrative.id, narrative]);
  const withNarrative = await site.client.get(`/Patient/${narrative.id}`, xml);
  assert.equal(withNarrative.status, 200, withNarrative.body);
  assert.doesNotMatch(withNarrative.body, /\u0002/);
});

test('invalid UTF-8 in a body: 400, not silently replaced', async () => {
  const before = await patientCount();
  const json = Buffer.concat([Buffer.from(`{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"name":[{"family":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]);
  const xml = Buffer.concat([Buffer.from('<Patient xmlns="http://hl7.org/fhir"><name><family value="'), Buffer.from([0xc3, 0x28]), Buffer.from('"/></name></Patient>')]);
  // UTF-8 encoded surrogate (CESU-8), which is not UTF-8 either.
  const cesu = Buffer.concat([Buffer.from(`{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"name":[{"family":"`), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}]}')]);
  for (const [body, type] of [[json, 'application/fhir+json'], [xml, 'application/fhir+xml'], [cesu, 'application/fhir+json']] as const) {
    const r = await site.client.http.request(`${site.baseUrl}/Patient`, { method: 'POST', headers: { 'content-type': type, accept: 'application/fhir+json' }, body });
    assertOutcome(r, 400, /UTF-8/);
  }
  assert.equal(await patientCount(), before);
});

test('a NUL in a search value or in conditional criteria: 400', async () => {
  assertOutcome(await site.client.get('/Organization?name=a%00b'), 400, /U\+0000/);
  assertOutcome(await site.client.get('/Organization?name=a%00b', { prefer: 'handling=strict' }), 400, /U\+0000/);
  assertOutcome(await site.client.get('/Organization?na%00me=a'), 400, /U\+0000/);
  assertOutcome(await site.client.get('/Patient?identifier=http://x%7Ca%00'), 400, /U\+0000/);
  const before = await patientCount();
  assertOutcome(await site.client.post('/Patient', { resourceType: 'Patient', meta: TAG_ALL }, { 'if-none-exist': 'identifier=a%00b' }), 400, /U\+0000/);
  assert.equal(await patientCount(), before);
});

test('_page and history versions beyond 2^53 or the stored range: 4xx', async () => {
  const c = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, active: true });
  assertOutcome(await site.client.get('/Patient?_page=9007199254740993'), 400, /_page/);
  assertOutcome(await site.client.get('/Patient/_history?_page=9007199254740993'), 400, /_page/);
  assertOutcome(await site.client.get('/_history?_page=1e300'), 400, /_page/);
  const big = await site.client.get('/Patient/_history?_count=1e300');
  assert.equal(big.status, 400, big.body);
  assertOutcome(await site.client.get(`/Patient/${c.id}/_history/9007199254740993`), 404);
  assertOutcome(await site.client.get(`/Patient/${c.id}/_history/2147483648`), 404);
  assertOutcome(await site.client.get(`/Patient/${c.id}/_history/99999999999999999999999`), 404);
});

test('PUT with an id that is not a FHIR id: 400, not 405', async () => {
  const bad = 'not$a*fhir!id';
  const r = await site.client.put(`/Patient/${encodeURIComponent(bad)}`, { resourceType: 'Patient', id: bad, meta: TAG_ALL });
  assertOutcome(r, 400, /not a valid FHIR id/);
  const tooLong = 'a'.repeat(65);
  assertOutcome(await site.client.put(`/Patient/${tooLong}`, { resourceType: 'Patient', id: tooLong, meta: TAG_ALL }), 400, /not a valid FHIR id/);
  // A valid id the server did not assign is still refused as update-as-create.
  assertOutcome(await site.client.put('/Patient/abc', { resourceType: 'Patient', id: 'abc', meta: TAG_ALL }), 405);
});

function nestedExtensions(levels: number): string {
  return `{"resourceType":"Patient","meta":${JSON.stringify(TAG_ALL)},"extension":${'[{"url":"http://x","extension":'.repeat(levels)}[{"url":"http://x","valueString":"y"}]${'}]'.repeat(levels)}}`;
}

test('JSON nested thousands of levels deep: 400 naming the limit, nothing stored', async () => {
  const before = await patientCount();
  for (const levels of [1500, 50_000]) {
    assertOutcome(await postJson('/Patient', nestedExtensions(levels)), 400, /nested deeper than \d+ levels/);
  }
  const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":${nestedExtensions(1500)},"request":{"method":"POST","url":"Patient"}}]}`;
  assertOutcome(await postJson('', bundle), 400, /nested deeper/);
  const arrays = `{"resourceType":"Patient","active":${'['.repeat(3000)}true${']'.repeat(3000)}}`;
  assertOutcome(await postJson('/Patient', arrays), 400, /nested deeper/);
  assert.equal(await patientCount(), before);
});

test('nesting just inside the parsers\' limits: a 4xx from validation, never a stack overflow; deep stored data renders', async () => {
  const before = await patientCount();
  const json = await postJson('/Patient', nestedExtensions(250));
  assert.ok(json.status >= 400 && json.status < 500, json.body);
  const xmlLevels = 250;
  const xml = `<Patient xmlns="http://hl7.org/fhir">${'<extension url="http://x">'.repeat(xmlLevels)}<valueString value="y"/>${'</extension>'.repeat(xmlLevels)}</Patient>`;
  const fromXml = await site.client.post('/Patient', xml, { 'content-type': 'application/fhir+xml' });
  assert.ok(fromXml.status >= 400 && fromXml.status < 500, fromXml.body);
  assert.equal(await patientCount(), before);
  // Written directly (as by an older version): reading, summarising and writing it as XML still work.
  const id = randomUUID();
  const deep = { ...JSON.parse(nestedExtensions(250)), id, meta: { ...TAG_ALL, versionId: '1', lastUpdated: new Date().toISOString() } };
  await site.db.pool.query("INSERT INTO resources (id, version, type, last_updated, deleted, current, resource) VALUES ($1, 1, 'Patient', now(), false, true, $2)", [id, deep]);
  for (const path of [`/Patient/${id}`, `/Patient/${id}?_summary=true`, `/Patient?_id=${id}&_elements=extension`, `/Patient/${id}/_history`]) {
    for (const accept of ['application/fhir+json', 'application/fhir+xml']) {
      const r = await site.client.get(path, { accept });
      assert.equal(r.status, 200, `${path} ${accept}: ${r.body.slice(0, 300)}`);
    }
  }
});

test('headers or URL too large: 431 with an OperationOutcome', async () => {
  const header = await site.client.http.request(`${site.baseUrl}/Patient`, { headers: { accept: 'application/fhir+json', 'x-padding': 'x'.repeat(32 * 1024) } });
  assertOutcome(header, 431, /header/i);
  const url = await site.client.http.request(`${site.baseUrl}/Patient?name=${'x'.repeat(32 * 1024)}`, { headers: { accept: 'application/fhir+json' } });
  assertOutcome(url, 431);
  assert.match(String(url.headers['content-type']), /application\/fhir\+json/);
});

test('Prefer: handling=strict refuses an impossible date and an unknown _total value', async () => {
  const strict = { prefer: 'handling=strict' };
  assertOutcome(await site.client.get('/Patient?_lastUpdated=gt2020-02-30', strict), 400, /2020-02-30/);
  assertOutcome(await site.client.get('/Task?authored-on=2021-02-29', strict), 400, /2021-02-29/);
  assertOutcome(await site.client.get('/Patient?_lastUpdated=2020-04-31T10:00:00Z', strict), 400);
  assertOutcome(await site.client.get('/Patient?_total=bogus', strict), 400, /_total/);
  for (const total of ['none', 'estimate', 'accurate']) assert.equal((await site.client.get(`/Patient?_total=${total}`, strict)).status, 200);
  assert.equal((await site.client.get('/Task?authored-on=2020-02-29', strict)).status, 200);
  // Lenient handling: ignored with a warning.
  const lenient = await site.client.get('/Patient?_total=bogus&_lastUpdated=gt2020-02-30');
  assert.equal(lenient.status, 200, lenient.body);
  const warnings = lenient.json.entry.filter((e: any) => e.search?.mode === 'outcome').flatMap((e: any) => e.resource.issue.map((i: any) => i.diagnostics));
  assert.equal(warnings.length, 2, JSON.stringify(warnings));
});
