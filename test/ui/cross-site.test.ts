// State changes of the FHIR pages only from the site's own pages: a form of another site (the browser adds
// its client certificate, and may add the session cookie) is refused with 403 and changes nothing, as is a
// request carrying the session cookie from another origin. The REST API's clients (certificate, JSON or
// form-encoded searches, no Origin) work unchanged. Sign-out is a POST and refused cross-site as well.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HttpsClient } from '../../src/common/https-client.ts';
import { freePort } from '../../src/db/embedded.ts';
import { startTestSite, type TestSite } from '../support/fhir-site.ts';

let site: TestSite;
let http: HttpsClient;
let origin: string;
let baseUrl: string;

before(async () => {
  const port = await freePort();
  origin = `https://localhost:${port}`;
  baseUrl = `${origin}/fhir`;
  site = await startTestSite({
    config: { apiPort: port, baseUrl },
    auth: {
      // Sign-in configured (the provider is never contacted here): the /logout route exists.
      oidcLogin: { realmBaseUrl: 'https://127.0.0.1:9/realms/none', discoveryPath: '/.well-known/openid-configuration', clientId: 'dsf-ui', clientSecret: 'secret', trustedCas: [], connectTimeoutMs: 1_000, readTimeoutMs: 1_000 },
    },
  });
  const org = site.certs.organizations.Test_Organization!.client;
  http = new HttpsClient({ cert: readFileSync(org.certPath, 'utf8'), key: readFileSync(org.keyPath, 'utf8'), ca: readFileSync(site.certs.ca.certPath, 'utf8') });
});

after(async () => {
  http?.close();
  await site?.stop();
});

/** A resource the local organisation may create. */
const patient = () => ({ resourceType: 'Patient', meta: { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' }] }, active: true });

const count = async () => JSON.parse((await http.request(`${baseUrl}/Patient?_summary=count`, { headers: { accept: 'application/fhir+json' } })).body).total as number;

const send = (method: string, path: string, headers: Record<string, string>, body = '') => http.request(`${baseUrl}${path}`, { method, headers: { accept: 'application/fhir+json', ...headers }, body });

test('a form of another site posting to the FHIR server is refused with 403 and creates nothing', async () => {
  const before = await count();
  const total = async (type: string) => JSON.parse((await http.request(`${baseUrl}/${type}?_summary=count`, { headers: { accept: 'application/fhir+json' } })).body).total as number;
  const [tasks, binaries] = [await total('Task'), await total('Binary')];
  const body = JSON.stringify(patient());
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    for (const from of [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }] as Record<string, string>[]) {
      // A Task (as the start-process form creates), another create, a transaction, a user task's response, a Binary's raw content.
      for (const [method, path] of [['POST', '/Task'], ['POST', '/Patient'], ['POST', ''], ['POST', '/QuestionnaireResponse/00000000-0000-4000-8000-000000000000'], ['POST', '/Binary']] as const) {
        const r = await send(method, path, { 'content-type': type, ...from }, body);
        assert.equal(r.status, 403, `${method} ${path} ${type} ${JSON.stringify(from)}: ${r.body}`);
        assert.match(r.body, /accepted only from this server's own pages/);
      }
    }
  }
  assert.equal(await count(), before);
  assert.equal(await total('Task'), tasks);
  assert.equal(await total('Binary'), binaries);
});

test('requests carrying the session cookie are checked whatever their type; own origin passes', async () => {
  const cookie = { cookie: 'dsf_session=eyJhbGciOiJkaXIifQ.x.y.z.w' };
  const json = { 'content-type': 'application/fhir+json' };
  const body = JSON.stringify({ ...patient(), id: '00000000-0000-4000-8000-000000000001' });
  assert.equal((await send('PUT', '/QuestionnaireResponse/00000000-0000-4000-8000-000000000001', { ...json, ...cookie, origin: 'https://evil.example' }, body)).status, 403);
  assert.equal((await send('POST', '/Patient', { ...json, ...cookie, 'sec-fetch-site': 'same-site' }, JSON.stringify(patient()))).status, 403);
  // Only a browser holds the cookie, and browsers send Origin with every POST and PUT.
  assert.equal((await send('POST', '/Patient', { ...json, ...cookie }, JSON.stringify(patient()))).status, 403);
  const before = await count();
  // From the own origin a change with the cookie also needs the session's CSRF token, which only the pages carry.
  const csrf = { 'x-dsf-csrf': await pageCsrfToken(cookie.cookie) };
  const own = await send('POST', '/Patient', { ...json, ...cookie, ...csrf, origin }, JSON.stringify(patient()));
  assert.equal(own.status, 201, own.body);
  assert.equal((await send('POST', '/Patient', { ...json, ...cookie, ...csrf, 'sec-fetch-site': 'same-origin' }, JSON.stringify(patient()))).status, 201);
  assert.equal(await count(), before + 2);
});

/** The CSRF token a page served with this cookie carries (data-csrf of its body, read by the pages' script). */
async function pageCsrfToken(cookie: string): Promise<string> {
  const page = await http.request(`${baseUrl}/Patient?_format=html`, { headers: { accept: 'text/html', cookie } });
  assert.equal(page.status, 200, page.body);
  const token = /<body [^>]*data-csrf="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(token, 'the page carries the session token');
  return token;
}

test('a change carrying the session cookie from the own origin needs the session CSRF token: missing or wrong is a 403 page, right works', async () => {
  const cookie = 'dsf_session=eyJhbGciOiJkaXIifQ.a.b.c.d';
  const token = await pageCsrfToken(cookie);
  assert.notEqual(token, await pageCsrfToken('dsf_session=eyJhbGciOiJkaXIifQ.other.b.c.d'), 'each session has its own token');
  const before = await count();
  const browserPost = (headers: Record<string, string>) =>
    http.request(`${baseUrl}/Patient`, { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/fhir+json', cookie, origin, ...headers }, body: JSON.stringify(patient()) });
  for (const [what, headers] of [['missing', {}], ['wrong', { 'x-dsf-csrf': token.slice(1) + 'A' }], ['of another session', { 'x-dsf-csrf': await pageCsrfToken('dsf_session=x') }]] as const) {
    const r = await browserPost(headers);
    assert.equal(r.status, 403, `${what}: ${r.body}`);
    assert.match(String(r.headers['content-type']), /text\/html/);
    assert.match(r.body, /CSRF token of the session/);
  }
  assert.equal(await count(), before);
  assert.equal((await browserPost({ 'x-dsf-csrf': token })).status, 201);
  assert.equal(await count(), before + 1);

  // Sign-out is a form: the token comes as its hidden field.
  const form = { 'content-type': 'application/x-www-form-urlencoded', cookie, origin };
  const offered = await http.request(`${baseUrl}/logout`, { headers: { accept: 'text/html', cookie } });
  assert.match(offered.body, new RegExp(`<input type="hidden" name="dsf_csrf" value="${token}">`));
  assert.equal((await http.request(`${baseUrl}/logout`, { method: 'POST', headers: form, body: '' })).status, 403);
  assert.equal((await http.request(`${baseUrl}/logout`, { method: 'POST', headers: form, body: 'dsf_csrf=wrong' })).status, 403);
  const out = await http.request(`${baseUrl}/logout`, { method: 'POST', headers: form, body: `dsf_csrf=${encodeURIComponent(token)}` });
  assert.equal(out.status, 200, out.body);
  assert.match(String(out.headers['set-cookie']), /dsf_session=;/);
});

test('clients with a certificate and no cookie need no token', async () => {
  const before = await count();
  assert.equal((await send('POST', '/Patient', { 'content-type': 'application/fhir+json' }, JSON.stringify(patient()))).status, 201);
  assert.equal((await send('POST', '/Patient', { 'content-type': 'application/fhir+json', origin }, JSON.stringify(patient()))).status, 201);
  assert.equal(await count(), before + 2);
});

test('the REST API for non-browser clients is unchanged: JSON writes and form-encoded searches without Origin', async () => {
  const created = await send('POST', '/Patient', { 'content-type': 'application/fhir+json' }, JSON.stringify(patient()));
  assert.equal(created.status, 201, created.body);
  const search = await send('POST', '/Patient/_search', { 'content-type': 'application/x-www-form-urlencoded' }, 'active=true');
  assert.equal(search.status, 200, search.body);
  assert.ok(JSON.parse(search.body).total >= 1);
  // The same search from this site's pages passes; from another site's form it does not.
  assert.equal((await send('POST', '/Patient/_search', { 'content-type': 'application/x-www-form-urlencoded', origin }, 'active=true')).status, 200);
  assert.equal((await send('POST', '/Patient/_search', { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, 'active=true')).status, 403);
});

test('sign-out is a POST from the own pages: GET only offers the button, a cross-site post keeps the session', async () => {
  const cookie = { cookie: 'dsf_session=x' };
  const offer = await http.request(`${baseUrl}/logout`, { headers: { accept: 'text/html', ...cookie } });
  assert.equal(offer.status, 200);
  assert.equal(offer.headers['set-cookie'], undefined);
  const token = /<form class="inline" method="post" action="[^"]*\/fhir\/logout"><input type="hidden" name="dsf_csrf" value="([^"]+)"><button type="submit" class="primary">Sign out<\/button><\/form>/.exec(offer.body)?.[1];
  assert.ok(token, offer.body);

  const form = { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', ...cookie };
  const refused = await http.request(`${baseUrl}/logout`, { method: 'POST', headers: { ...form, origin: 'https://evil.example' }, body: '' });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers['set-cookie'], undefined);

  const done = await http.request(`${baseUrl}/logout`, { method: 'POST', headers: { ...form, origin }, body: `dsf_csrf=${encodeURIComponent(token)}` });
  assert.equal(done.status, 200, done.body);
  assert.match(String(done.headers['set-cookie']), /dsf_session=; Path=\/fhir; Max-Age=0; HttpOnly; Secure; SameSite=Lax/);
});
