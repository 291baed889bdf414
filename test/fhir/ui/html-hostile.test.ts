// Hostile input at the FHIR server's HTML pages and at the requests its forms send (the user-task form
// PUTs the QuestionnaireResponse as the page's script does: JSON, If-Match, the page's Origin): NUL
// bytes, broken percent-encoding, thousands of parameters, oversized headers with `_format=html`; 10,000
// answers, deep nesting of groups, huge numbers, NUL in an answer, an answer to no item, a post to a
// response completed already, 16 submissions of one user task at once. Each gets a 4xx page or the right
// behaviour, never a 500; nothing changes on a refusal; exactly one submission completes the task; the
// log has no answer values.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { startTestSite, TAG_ALL, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const QUESTIONNAIRE_URL = 'http://dsf.dev/fhir/Questionnaire/hostile-form';
const ORGANIZATION_ID = 'http://dsf.dev/sid/organization-identifier';
/** Stands for personal data in an answer: it must appear in no log line. */
const PERSONAL = 'Erika Mustermann, born 1964-08-12';

const lines: string[] = [];
let site: TestSite;
let ca: string;
before(async () => {
  site = await startTestSite({ config: { logLevel: 'info' }, logDestination: { write: (line: string) => void lines.push(line) } });
  ca = readFileSync(site.certs.ca.certPath, 'utf8');
  const q = await site.client.post('/Questionnaire', {
    resourceType: 'Questionnaire',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire'], ...TAG_ALL },
    url: QUESTIONNAIRE_URL,
    version: '1.0',
    status: 'active',
    date: '2024-01-01T00:00:00Z',
    item: [
      { linkId: 'user-task-id', text: 'The user-task-id of the process execution', type: 'string', required: true },
      { linkId: 'business-key', text: 'The business-key of the process execution', type: 'string', required: true },
      { linkId: 'name', text: 'Name', type: 'string', required: false },
      { linkId: 'amount', text: 'Amount', type: 'decimal', required: false },
      { linkId: 'count', text: 'Count', type: 'integer', required: false },
    ],
  });
  assert.equal(q.status, 201, q.body);
});
after(() => site?.stop());

const origin = () => new URL(site.baseUrl).origin;
const page = (path: string, headers: Record<string, string> = {}) => site.client.get(path, { accept: BROWSER_ACCEPT, ...headers });

/** An in-progress user-task response as the BPE creates it. */
async function userTask(version = '1.0'): Promise<any> {
  const r = await site.client.post('/QuestionnaireResponse', {
    resourceType: 'QuestionnaireResponse',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire-response'] },
    questionnaire: `${QUESTIONNAIRE_URL}|${version}`,
    status: 'in-progress',
    authored: new Date().toISOString(),
    author: { type: 'Organization', identifier: { system: ORGANIZATION_ID, value: testOrganizationIdentifier('Test_Organization') } },
    item: [
      { linkId: 'user-task-id', text: 'The user-task-id of the process execution', answer: [{ valueString: randomUUID() }] },
      { linkId: 'business-key', text: 'The business-key of the process execution', answer: [{ valueString: randomUUID() }] },
    ],
  });
  assert.equal(r.status, 201, r.body);
  return r.json;
}

/** What the form's script sends: the response completed with these extra items. */
function completed(qr: any, items: unknown[]): any {
  return { ...qr, status: 'completed', authored: new Date().toISOString(), author: { type: 'Organization', identifier: { system: ORGANIZATION_ID, value: testOrganizationIdentifier('Test_Organization') } }, item: [...qr.item, ...items] };
}

/** The form's PUT (a raw body, so hostile JSON text goes as written), answered as a page when html. */
function submit(qr: any, body: unknown, opts: { html?: boolean; version?: string } = {}) {
  return site.client.put(`/QuestionnaireResponse/${qr.id}${opts.html ? '?_format=html' : ''}`, typeof body === 'string' ? body : JSON.stringify(body), {
    'if-match': `W/"${opts.version ?? qr.meta.versionId}"`,
    origin: origin(),
    'sec-fetch-site': 'same-origin',
    ...(opts.html ? { accept: BROWSER_ACCEPT } : {}),
  });
}

async function stored(qr: any): Promise<any> {
  return (await site.client.get(`/QuestionnaireResponse/${qr.id}`)).json;
}

function assertRefusedPage(r: { status: number; body: string; headers: Record<string, unknown> }, what: string): void {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.body.slice(0, 300)}`);
  assert.match(String(r.headers['content-type']), /^text\/html/, what);
}

async function assertUnchanged(qr: any, what: string): Promise<void> {
  const now = await stored(qr);
  assert.equal(now.meta.versionId, qr.meta.versionId, `${what}: version`);
  assert.equal(now.status, 'in-progress', `${what}: status`);
}

test('hostile targets with _format=html: 4xx, never 500', async () => {
  const targets = [
    'Task?_format=html&status=%00',
    'Task?_format=html&%00=1',
    'Task?_format=html&status=%FF',
    'Task?_format=html&status=%E0%A4%A',
    'Task?_format=html&%zz=1',
    'Task/%00?_format=html',
    'Task/%FF?_format=html',
    'Task/a;b?_format=html',
    `Task/${'x'.repeat(300)}?_format=html`,
    'QuestionnaireResponse?_format=html&_count=99999999999999999999999',
    'QuestionnaireResponse?_format=html&_lastUpdated=gt99999-99-99',
  ];
  for (const target of targets) {
    const r = await page(target);
    assert.ok(r.status < 500, `${target}: ${r.status} ${r.body.slice(0, 300)}`);
    if (r.status >= 400) assert.match(String(r.headers['content-type']), /^text\/html/, target);
  }
  // Outside the pages too: the REST API answers an undecodable path with an OperationOutcome.
  const json = await site.client.get('Task/%FF');
  assert.equal(json.status, 400);
  assert.equal(json.json?.resourceType, 'OperationOutcome', json.body);
  const unknown = await page(`Task/${randomUUID()}?_format=html`);
  assert.equal(unknown.status, 404);
  assert.match(unknown.body, /Not found/);
});

test('thousands of query parameters with _format=html: a page or a 4xx in bounded time', async () => {
  const many = Array.from({ length: 3000 }, (_, i) => `p${i}=1`).join('&').slice(0, 15_000);
  const start = performance.now();
  const r = await page(`Task?_format=html&${many}`);
  assert.ok(r.status < 500, `${r.status} ${r.body.slice(0, 300)}`);
  assert.ok(performance.now() - start < 10_000);
  const strict = await page(`Task?_format=html&${many}`, { prefer: 'handling=strict' });
  assertRefusedPage(strict, 'strict handling');
});

test('raw NUL and bytes beyond ASCII in the request line, oversized headers: 4xx', async () => {
  const raw = (request: Buffer | string) =>
    new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: site.server.port, servername: 'localhost', ca }, () => socket.write(request));
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
      socket.once('error', reject);
      socket.once('close', () => resolve(data));
    });
  const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
  const line = (target: Buffer) => Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\nConnection: close\r\n\r\n')]);
  for (const target of [Buffer.from('/fhir/Task?_format=html&x=\x00', 'latin1'), Buffer.from([...Buffer.from('/fhir/Task?_format=html&x='), 0xff, 0xfe])]) {
    const status = statusOf(await raw(line(target)));
    assert.ok(status >= 400 && status < 500, `${JSON.stringify(target.toString('latin1'))}: ${status}`);
  }
  const big = await raw(`GET /fhir/Task?_format=html HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`);
  assert.equal(statusOf(big), 431);
});

test('the start-process form post with hostile values: a 4xx page, no Task created', async () => {
  const count = async () => (await site.db.pool.query("SELECT count(*)::int AS n FROM resources WHERE type = 'Task'")).rows[0].n;
  const before = await count();
  const task = {
    resourceType: 'Task',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/task-test'] },
    instantiatesCanonical: 'http://dsf.dev/bpe/Process/test|1.0',
    status: 'requested',
    intent: 'order',
    authoredOn: new Date().toISOString(),
    requester: { type: 'Organization', identifier: { system: ORGANIZATION_ID, value: testOrganizationIdentifier('Test_Organization') } },
    restriction: { recipient: [{ type: 'Organization', identifier: { system: ORGANIZATION_ID, value: testOrganizationIdentifier('Test_Organization') } }] },
    input: [{ type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/bpmn-message', code: 'message-name' }] }, valueString: 'start__NUL__' }],
  };
  const headers = { origin: origin(), 'sec-fetch-site': 'same-origin', accept: BROWSER_ACCEPT };
  const text = JSON.stringify(task);
  for (const [what, body] of [
    ['NUL', text.replace('__NUL__', '\\u0000')],
    ['huge number', text.replace('"valueString":"start__NUL__"', `"valueInteger":${'9'.repeat(400)}`)],
    ['deep nesting', text.replace('"valueString":"start__NUL__"', `"valueString":"x","extension":${'[{"url":"http://x","extension":'.repeat(300)}[]${'}]'.repeat(300)}`)],
    ['not JSON', text.slice(0, 100)],
  ] as const) {
    const r = await site.client.post('/Task?_format=html', body, headers);
    assertRefusedPage(r, what);
  }
  const many = JSON.stringify({ ...task, input: Array.from({ length: 10_000 }, (_, i) => ({ type: { coding: [{ system: 'http://example.org', code: `c${i}` }] }, valueString: `${PERSONAL} ${i}` })) });
  assertRefusedPage(await site.client.post('/Task?_format=html', many, headers), '10,000 inputs');
  assert.equal(await count(), before);
});

test('a user-task form post with 10,000 fields is refused within bounded time, nothing changed', { timeout: 60_000 }, async () => {
  const qr = await userTask();
  const items = Array.from({ length: 10_000 }, (_, i) => ({ linkId: `field-${i}`, text: `Field ${i}`, answer: [{ valueString: `${PERSONAL} ${i}` }] }));
  const start = performance.now();
  const r = await submit(qr, completed(qr, items), { html: true });
  const ms = performance.now() - start;
  assert.ok(ms < 30_000, `${ms} ms`);
  assertRefusedPage(r, '10,000 fields');
  assert.match(r.body, /is not an item of Questionnaire/);
  await assertUnchanged(qr, '10,000 fields');
  // 10,000 answers to one field that does not repeat: refused too.
  const repeated = Array.from({ length: 10_000 }, () => ({ linkId: 'name', answer: [{ valueString: PERSONAL }] }));
  assertRefusedPage(await submit(qr, completed(qr, repeated), { html: true }), '10,000 answers to one field');
  await assertUnchanged(qr, '10,000 answers to one field');
});

test('answers that do not fit the Questionnaire are refused (required item unanswered, two answers to one that does not repeat); fitting ones complete', async () => {
  const before = await site.client.post('/Questionnaire', {
    resourceType: 'Questionnaire',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire'], ...TAG_ALL },
    url: QUESTIONNAIRE_URL,
    version: '2.0',
    status: 'active',
    date: '2024-01-01T00:00:00Z',
    item: [
      { linkId: 'user-task-id', text: 'The user-task-id of the process execution', type: 'string', required: true },
      { linkId: 'business-key', text: 'The business-key of the process execution', type: 'string', required: true },
      { linkId: 'info', text: 'Please answer', type: 'display' },
      { linkId: 'approve', text: 'Approve?', type: 'boolean', required: true },
    ],
  });
  assert.equal(before.status, 201, before.body);
  const current = await userTask('2.0');
  for (const [what, items, pattern] of [
    ['required unanswered', [], /required item &#39;approve&#39; of Questionnaire/],
    ['two answers', [{ linkId: 'approve', answer: [{ valueBoolean: true }, { valueBoolean: false }] }], /&#39;approve&#39; does not repeat/],
    ['display answered', [{ linkId: 'info', answer: [{ valueString: 'x' }] }, { linkId: 'approve', answer: [{ valueBoolean: true }] }], /display item/],
  ] as const) {
    const r = await submit(current, completed(current, [...items]), { html: true });
    assertRefusedPage(r, what);
    assert.match(r.body, pattern, what);
    assert.equal((await stored(current)).meta.versionId, current.meta.versionId, what);
  }
  const ok = await submit(current, completed(current, [{ linkId: 'info' }, { linkId: 'approve', answer: [{ valueBoolean: true }] }]));
  assert.equal(ok.status, 200, ok.body);
});

test('deep nesting of groups in the answers: 4xx page, nothing changed', async () => {
  const qr = await userTask();
  // DSF Questionnaires have no groups; a hostile client nests items anyway.
  let nested: any = { linkId: 'name', answer: [{ valueString: 'deep' }] };
  for (let i = 0; i < 400; i++) nested = { linkId: 'name', item: [nested] };
  const r = await submit(qr, completed(qr, [nested]), { html: true });
  assertRefusedPage(r, 'deep nesting');
  await assertUnchanged(qr, 'deep nesting');
});

test('huge decimals and integers: 4xx page, nothing changed', async () => {
  const qr = await userTask();
  const body = JSON.stringify(completed(qr, [{ linkId: 'amount', answer: [{ valueDecimal: 0 }] }]));
  for (const [what, text] of [
    ['decimal 1e400', body.replace('"valueDecimal":0', '"valueDecimal":1e400')],
    ['decimal of 5000 digits', body.replace('"valueDecimal":0', `"valueDecimal":${'9'.repeat(5000)}.5`)],
    ['integer beyond 32 bits', body.replace('"valueDecimal":0', '"valueInteger":99999999999999999999').replace('"amount"', '"count"')],
  ] as const) {
    const r = await submit(qr, text, { html: true });
    assertRefusedPage(r, what);
    await assertUnchanged(qr, what);
  }
});

test('NUL in a string answer: 4xx page, nothing changed', async () => {
  const qr = await userTask();
  const text = JSON.stringify(completed(qr, [{ linkId: 'name', answer: [{ valueString: 'a__NUL__b' }] }])).replace('__NUL__', '\\u0000');
  const r = await submit(qr, text, { html: true });
  assertRefusedPage(r, 'NUL');
  await assertUnchanged(qr, 'NUL');
});

test('an answer for an item the Questionnaire does not have: 4xx page, nothing changed', async () => {
  const qr = await userTask();
  const r = await submit(qr, completed(qr, [{ linkId: 'no-such-item', answer: [{ valueString: PERSONAL }] }]), { html: true });
  assertRefusedPage(r, 'unknown item');
  await assertUnchanged(qr, 'unknown item');
});

test('a post for a response completed already: a 4xx page that says why, with the old version or the new; nothing changed', async () => {
  const qr = await userTask();
  const done = await submit(qr, completed(qr, [{ linkId: 'name', answer: [{ valueString: PERSONAL }] }]));
  assert.equal(done.status, 200, done.body);
  const after = await stored(qr);
  const stale = await submit(qr, completed(qr, [{ linkId: 'name', answer: [{ valueString: 'other' }] }]), { html: true });
  // As in the reference, the update rule (403: completed->completed is no allowed transition) is checked
  // before the version (412).
  for (const r of [stale, await submit(after, completed(after, []), { html: true })]) {
    assert.ok([403, 409, 412].includes(r.status), `${r.status} ${r.body.slice(0, 300)}`);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.match(r.body, /completed-&gt;completed is not allowed|Changed meanwhile/);
  }
  const now = await stored(qr);
  assert.equal(now.meta.versionId, after.meta.versionId);
  assert.equal(now.status, 'completed');
  assert.equal(now.item.find((i: any) => i.linkId === 'name').answer[0].valueString, PERSONAL);
});

test('16 concurrent submissions of one user task: exactly one completes it, the others get 4xx', { timeout: 60_000 }, async () => {
  const qr = await userTask();
  const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => submit(qr, completed(qr, [{ linkId: 'name', answer: [{ valueString: `submission ${i}` }] }]), { html: i % 2 === 0 })));
  const statuses = answers.map((a) => a.status);
  assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
  assert.ok(statuses.every((s) => [200, 403, 409, 412].includes(s)), statuses.join(','));
  const now = await stored(qr);
  assert.equal(now.status, 'completed');
  assert.equal(Number(now.meta.versionId), Number(qr.meta.versionId) + 1);
  const history = await site.client.get(`/QuestionnaireResponse/${qr.id}/_history`);
  assert.equal(history.json.total, 2);
});

test('no answer value and no name in any log line', () => {
  assert.ok(lines.length > 0);
  for (const line of lines) assert.doesNotMatch(line, /Erika|Mustermann|1964-08-12|submission \d/, line.slice(0, 300));
});

test('sign-in routes with hostile input (provider unreachable, forged cookies, provider errors): 4xx pages, never 500', { timeout: 60_000 }, async () => {
  const signInSite = await startTestSite({
    auth: { oidcLogin: { realmBaseUrl: 'https://127.0.0.1:9/realms/none', discoveryPath: '/.well-known/openid-configuration', clientId: 'fhir', clientSecret: 'secret', trustedCas: [ca], connectTimeoutMs: 500, readTimeoutMs: 500 } },
  });
  const browser = new HttpsClient({ ca });
  try {
    const get = (path: string, headers: Record<string, string> = {}) => browser.request(`${signInSite.baseUrl}${path}`, { headers: { accept: BROWSER_ACCEPT, ...headers } });
    const cases: [string, Record<string, string>][] = [
      [`/login?return=${encodeURIComponent('//evil.example/x')}`, {}],
      [`/login?return=${'a'.repeat(5000)}`, {}],
      ['/login?return=%FF%00', {}],
      ['/login/callback', {}],
      ['/login/callback?state=x&code=y', { cookie: `dsf_login=${'x'.repeat(4000)}` }],
      ['/login/callback?state=x&code=y', { cookie: 'dsf_login=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC' }],
      [`/login/callback?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}`, {}],
      ['/Task?_format=html', { cookie: 'dsf_session=not-a-session' }],
    ];
    for (const [path, headers] of cases) {
      const r = await get(path, headers);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status} ${r.body.slice(0, 300)}`);
      assert.doesNotMatch(r.body, /<script>alert/);
    }
    assert.equal((await get('/logout')).status, 200);
    const big = await browser
      .request(`${signInSite.baseUrl}/logout`, { method: 'POST', headers: { origin: new URL(signInSite.baseUrl).origin, 'content-type': 'application/x-www-form-urlencoded', accept: BROWSER_ACCEPT }, body: 'x'.repeat(9 * 1024 * 1024) })
      .catch((e: Error) => ({ status: 0, body: e.message }));
    assert.equal(big.status, 413, big.body.slice(0, 200));
  } finally {
    browser.close();
    await signInSite.stop();
  }
});
