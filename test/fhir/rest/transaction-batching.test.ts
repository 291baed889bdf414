// A transaction Bundle's writes are held back and sent together (store/write-batch.ts): a hundred
// creates are one statement, updates and deletes by id add one lock and one read for all of them, and
// every guarantee stays: all or nothing, uniqueness refused by the database and told for its entry,
// every entry's index rows searchable, events in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { EventListener } from '../../../src/fhir/events/event-listener.ts';
import { isWriteStatement } from '../../../src/fhir/store/version-writes.ts';

let site: TestSite;
/** Every statement the server sent, with its connection. */
const sent: { client: object; text: string }[] = [];
let mark = 0;
/** The Bundle posted, remembering where its statements start. */
function transaction(entry: object[]) {
  mark = sent.length;
  return site.client.post('', { resourceType: 'Bundle', type: 'transaction', entry });
}
/** The write statement (store/version-writes.ts), told apart from other SELECTs. */
const isWrite = (text: string) => isWriteStatement(text);
/** The first words of the statements of the last transaction, on its connection (the one of its first write or BEGIN); WRITE for the write statement. */
function transactionStatements(): string[] {
  const mine = sent.slice(mark);
  const first = mine.findIndex((s) => s.text === 'BEGIN' || isWrite(s.text));
  if (first < 0) return [];
  return mine
    .slice(first)
    .filter((s) => s.client === mine[first]!.client)
    .map((s) => (isWrite(s.text) ? 'WRITE' : s.text.split(/\s+/)[0]!));
}
before(async () => {
  site = await startTestSite();
  endpointId = (await site.client.get('/Endpoint')).json.entry[0].resource.id;
  const seen = new WeakSet<object>();
  site.db.pool.on('acquire', (client) => {
    if (seen.has(client)) return;
    seen.add(client);
    const query = client.query;
    (client as any).query = function (...args: any[]) {
      const text = typeof args[0] === 'string' ? args[0] : args[0]?.text;
      sent.push({ client, text: String(text).trim() });
      return (query as any).apply(this, args);
    };
  });
});
after(() => site?.stop());

const patient = (value: string, extra: object = {}) => ({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://example.org/batch', value }], active: true, ...extra });
const post = (resource: object, fullUrl?: string) => ({ ...(fullUrl ? { fullUrl } : {}), resource, request: { method: 'POST', url: (resource as { resourceType: string }).resourceType } });
const urn = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** A parent organisation (no thumbprint needed); its organization-identifier is a uniqueness key. */
const organization = (identifier: string) => ({
  resourceType: 'Organization',
  meta: { ...TAG_ALL, profile: ['http://dsf.dev/fhir/StructureDefinition/organization-parent'] },
  identifier: [{ system: 'http://dsf.dev/sid/organization-identifier', value: identifier }],
  active: true,
  name: identifier,
  endpoint: [{ reference: `Endpoint/${endpointId}` }],
});
let endpointId = '';

async function countOf(query: string): Promise<number> {
  const r = await site.client.get(`${query}&_summary=count`);
  assert.equal(r.status, 200, r.body);
  return r.json.total;
}

test('a transaction of 100 creates is one statement (atomic on its own, without BEGIN and COMMIT); every entry is searchable by its index rows', async () => {
  const entries = Array.from({ length: 100 }, (_, i) => post(patient(`hundred-${i}`, { birthDate: `19${String(i).padStart(2, '0')}-01-01` })));
  const r = await transaction(entries);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(transactionStatements(), ['WRITE']);
  assert.equal(r.json.entry.length, 100);
  for (const [i, e] of r.json.entry.entries()) {
    assert.equal(e.response.status, '201 Created');
    const found = await site.client.get(`/Patient?identifier=http://example.org/batch|hundred-${i}&birthdate=19${String(i).padStart(2, '0')}-01-01`);
    assert.equal(found.json.total, 1, `entry ${i}`);
    assert.equal(`${found.json.entry[0].fullUrl}/_history/1`, e.response.location);
  }
});

test('mixed creates, updates and deletes: the locks and reads of all updated and deleted resources at once, the writes in one statement', async () => {
  const [a, b, c] = [await site.client.create(patient('mixed-a')), await site.client.create(patient('mixed-b')), await site.client.create(patient('mixed-c'))];
  const entry = [
    { resource: { ...a, active: false }, request: { method: 'PUT', url: `Patient/${a.id}` } },
    // A reference to a resource created by the same transaction: its check (after all entries) sees it.
    post(patient('mixed-new', { link: [{ other: { reference: urn(2) }, type: 'seealso' }] }), urn(1)),
    { request: { method: 'DELETE', url: `Patient/${c.id}` } },
    { resource: { ...b, gender: 'female' }, request: { method: 'PUT', url: `Patient/${b.id}` } },
    post(patient('mixed-new-2'), urn(2)),
  ];
  const r = await transaction(entry);
  assert.equal(r.status, 200, r.body);
  // The locks, the current versions, the writes, the reference check.
  assert.deepEqual(transactionStatements(), ['BEGIN', 'SELECT', 'SELECT', 'WRITE', 'SELECT', 'COMMIT']);
  assert.deepEqual(
    r.json.entry.map((e: any) => e.response.status),
    ['200 OK', '201 Created', '200 OK', '200 OK', '201 Created'],
  );
  assert.match(r.json.entry[0].response.etag, /W\/"2"/);
  assert.match(r.json.entry[2].response.etag, /W\/"2"/);
  assert.match(r.json.entry[3].response.etag, /W\/"2"/);
  assert.equal((await site.client.get(`/Patient/${c.id}`)).status, 410);
  assert.equal((await site.client.get(`/Patient/${a.id}`)).json.active, false);
  assert.equal(await countOf('/Patient?identifier=http://example.org/batch|mixed-c'), 0);
  assert.equal(await countOf('/Patient?identifier=http://example.org/batch|mixed-a&active=false'), 1);
  assert.equal(await countOf('/Patient?identifier=http://example.org/batch|mixed-a&active=true'), 0);
  const second = r.json.entry[4].response.location.split('/').slice(-3, -2)[0];
  const first = r.json.entry[1].response.location.split('/').slice(-3, -2)[0];
  assert.equal((await site.client.get(`/Patient/${first}`)).json.link[0].other.reference, `Patient/${second}`);
  assert.equal(await countOf(`/Patient?_id=${second}`), 1);
  const history = await site.client.get(`/Patient/${a.id}/_history`);
  assert.deepEqual(history.json.entry.map((e: any) => e.resource.meta.versionId), ['2', '1']);

  // A conditional update creating, then an update of what an earlier entry created: each sees the writes before it.
  const conditional = await transaction([
    { fullUrl: urn(3), resource: patient('mixed-conditional'), request: { method: 'PUT', url: 'Patient?identifier=http://example.org/batch|mixed-conditional' } },
    { resource: { ...a, active: true }, request: { method: 'PUT', url: `Patient/${a.id}` } },
  ]);
  assert.equal(conditional.status, 200, conditional.body);
  assert.equal(await countOf('/Patient?identifier=http://example.org/batch|mixed-conditional'), 1);

  // Two updates of one resource in a transaction: the second sees the first.
  const twice = await transaction([
    { resource: { ...a, active: false }, request: { method: 'PUT', url: `Patient/${a.id}` } },
    { resource: { ...a, active: false, gender: 'other' }, request: { method: 'PUT', url: `Patient/${a.id}`, ifMatch: 'W/"4"' } },
  ]);
  assert.equal(twice.status, 200, twice.body);
  assert.deepEqual(twice.json.entry.map((e: any) => e.response.etag), ['W/"4"', 'W/"5"']);
  assert.equal((await site.client.get(`/Patient/${a.id}`)).json.gender, 'other');
  // A delete of an unknown id still fails the transaction, and nothing of it is written.
  const unknown = await transaction([post(patient('mixed-unknown')), { request: { method: 'DELETE', url: 'Patient/00000000-0000-4000-8000-00000000dead' } }]);
  assert.equal(unknown.status, 400, unknown.body);
  assert.equal(await countOf('/Patient?identifier=http://example.org/batch|mixed-unknown'), 0);
});

test('a uniqueness clash in entry 57 rolls back every entry and is told for entry 57; so is a duplicate within the Bundle', async () => {
  const existing = await site.client.create(organization('batch-existing.test'));
  assert.ok(existing.id);
  const entries = Array.from({ length: 60 }, (_, i) => post(patient(`clash-${i}`)));
  entries[57] = post(organization('batch-existing.test'));
  const r = await transaction(entries);
  assert.equal(r.status, 403, r.body);
  assert.match(r.body, /Bundle\.entry\[57\]/);
  assert.match(r.body, /already exists/);
  // The check of the Organization's endpoint reference reads: the writes go first and fail as a whole.
  assert.deepEqual(transactionStatements(), ['BEGIN', 'WRITE', 'ROLLBACK']);
  assert.equal(await countOf('/Patient?identifier=http://example.org/batch|clash-0'), 0);
  assert.equal(await countOf('/Patient?identifier=http://example.org/batch|clash-59'), 0);

  // Two new Organizations with the same identifier in one Bundle: the later entry is refused.
  const dup = Array.from({ length: 60 }, (_, i) => post(patient(`dup-${i}`)));
  dup[10] = post(organization('batch-duplicate.test'));
  dup[57] = post(organization('batch-duplicate.test'));
  const d = await transaction(dup);
  assert.equal(d.status, 403, d.body);
  assert.match(d.body, /Bundle\.entry\[57\]/);
  assert.equal(await countOf('/Organization?identifier=http://dsf.dev/sid/organization-identifier|batch-duplicate.test'), 0);
  assert.equal(await countOf('/Patient?identifier=http://example.org/batch|dup-0'), 0);

  // An entry after the clash that fails for its own reason: the clash of the earlier entry is told, as before batching.
  const later = Array.from({ length: 60 }, (_, i) => post(patient(`later-${i}`)));
  later[57] = post(organization('batch-existing.test'));
  later[58] = post({ resourceType: 'Patient', meta: TAG_ALL, birthDate: 'not a date' });
  const l = await transaction(later);
  assert.equal(l.status, 403, l.body);
  assert.match(l.body, /Bundle\.entry\[57\]/);

  // A key freed by one entry (a delete) and taken by another in the same statement.
  const moved = await transaction([post(organization('batch-existing.test')), { request: { method: 'DELETE', url: `Organization/${existing.id}` } }]);
  assert.equal(moved.status, 200, moved.body);
  assert.equal(transactionStatements().filter((w) => w === 'WRITE').length, 1);
  assert.equal(await countOf('/Organization?identifier=http://dsf.dev/sid/organization-identifier|batch-existing.test'), 1);
});

test('events of a batched transaction in entry order', async () => {
  // As another server process on the database would follow the change stream.
  const seen: string[] = [];
  const stream = new EventListener(site.db.pool.options, { onChange: async (c) => void seen.push(c.id) });
  await stream.start();
  try {
    const r = await transaction(Array.from({ length: 20 }, (_, i) => post(patient(`event-${i}`))));
    assert.equal(r.status, 200, r.body);
    const ids = r.json.entry.map((e: any) => e.response.location.split('/').slice(-3, -2)[0]);
    await stream.settled();
    assert.deepEqual(seen, ids);
  } finally {
    await stream.stop();
  }
});

test('transactions updating the same resources in opposite entry order do not deadlock (locks taken in id order)', async () => {
  const [a, b] = [await site.client.create(patient('order-a')), await site.client.create(patient('order-b'))];
  const put = (r: any, n: number) => ({ resource: { ...r, birthDate: `2000-01-${String(n).padStart(2, '0')}` }, request: { method: 'PUT', url: `Patient/${r.id}` } });
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => (i % 2 ? transaction([put(a, i + 1), put(b, i + 1)]) : transaction([put(b, i + 1), put(a, i + 1)]))),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    results.map(() => 200),
    results.map((r) => r.body.slice(0, 200)).join('\n'),
  );
  const [ra, rb] = [await site.client.get(`/Patient/${a.id}`), await site.client.get(`/Patient/${b.id}`)];
  // Every transaction wrote both (a version each), and the last one wrote both.
  assert.equal(ra.json.meta.versionId, '13');
  assert.equal(rb.json.meta.versionId, '13');
  assert.equal(ra.json.birthDate, rb.json.birthDate);
});
