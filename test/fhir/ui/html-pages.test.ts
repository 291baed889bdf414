// The FHIR server's HTML pages over real HTTPS: same routes, same authorization as JSON; escaped
// content; references as links; paging links that keep asking for HTML; the static files; 401 pages
// without data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HttpsClient } from '../../../src/common/https-client.ts';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';

const PARENT = 'http://dsf.dev/fhir/StructureDefinition/organization-parent';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

let site: TestSite;
before(async () => {
  site = await startTestSite();
});
after(async () => {
  await site?.stop();
});

const page = (path: string, accept = BROWSER_ACCEPT) => site.client.get(path, { accept });

test('a resource page: escaped content, references as links, JSON and XML views, same data as JSON', async () => {
  const org = await site.client.create({ resourceType: 'Organization', meta: { ...TAG_ALL, profile: [PARENT] }, active: true, name: HOSTILE, identifier: [{ system: 'http://dsf.dev/sid/organization-identifier', value: 'ui-test.org' }] });
  const endpoint = await site.client.create({
    resourceType: 'Endpoint',
    meta: TAG_ALL,
    status: 'active',
    identifier: [{ system: 'http://dsf.dev/sid/endpoint-identifier', value: 'ui-test-endpoint' }],
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    managingOrganization: { reference: `Organization/${org.id}` },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
    payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
    address: 'https://ui-test.org/fhir',
  });
  const r = await page(`Organization/${org.id}`);
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/html/);
  assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
  assert.ok(!r.body.includes(HOSTILE) && !r.body.includes('<script>alert'), 'hostile name escaped');
  assert.ok(r.body.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  assert.ok(r.body.includes(`/fhir/static/ui.css`) && r.body.includes(`/fhir/static/ui.js`));
  assert.ok(r.body.includes('id="view-json"') && r.body.includes('id="view-xml"'), 'JSON/XML toggle');
  assert.ok(r.body.includes('&lt;Organization xmlns=&quot;http://hl7.org/fhir&quot;&gt;'), 'XML view');
  // The embedded JSON the page's script reads cannot end its element.
  const data = /<script type="application\/json" id="dsf-resource">([^<]*)<\/script>/.exec(r.body);
  assert.ok(data, 'resource JSON for the script');
  assert.equal(JSON.parse(data[1]!).name, HOSTILE);

  const e = await page(`Endpoint/${endpoint.id}`);
  assert.equal(e.status, 200);
  assert.ok(e.body.includes(`<a href="${site.baseUrl}/Organization/${org.id}">Organization/${org.id}</a>`), 'reference as a link');

  // JSON clients are unchanged.
  const json = await site.client.get(`Organization/${org.id}`);
  assert.equal(json.json.name, HOSTILE);
});

test('a search page: entries as links, total, paging links keep _format=html', async () => {
  for (let i = 0; i < 3; i++) await site.client.create({ resourceType: 'Organization', meta: { ...TAG_ALL, profile: [PARENT] }, active: true, name: `Paged ${i}`, identifier: [{ system: 'http://dsf.dev/sid/organization-identifier', value: `paged-${i}.org` }] });
  const r = await page('Organization?name=Paged&_count=2&_format=html', 'application/fhir+json');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/html/);
  assert.match(r.body, /3 in total/);
  assert.equal((r.body.match(/<tr>/g) ?? []).length, 3, 'header + 2 rows');
  const next = /<a href="([^"]+)">next<\/a>/.exec(r.body);
  assert.ok(next, 'next link');
  const nextUrl = next[1]!.replaceAll('&amp;', '&');
  assert.match(nextUrl, /_format=html/);
  const second = await site.client.get(nextUrl, { accept: 'application/fhir+json' });
  assert.match(second.body, /1 on this page/);

  const history = await page('Organization/_history?_count=1');
  assert.equal(history.status, 200);
  assert.match(history.body, /History/);
});

test('a Binary page offers the download of its content', async () => {
  const binary = await site.client.create({ resourceType: 'Binary', contentType: 'text/plain', securityContext: { reference: `Organization/${(await site.client.get('Organization?_count=1')).json.entry[0].resource.id}` }, data: Buffer.from('hello').toString('base64') });
  const r = await page(`Binary/${binary.id}?_format=html`);
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(`download href="${site.baseUrl}/Binary/${binary.id}"`));
  const raw = await site.client.get(`Binary/${binary.id}`, { accept: '*/*' });
  assert.equal(raw.body, 'hello');
});

test('errors are pages too; without a certificate a browser gets a 401 page and no data, the static files need none', async () => {
  const missing = await page('Organization/00000000-0000-0000-0000-000000000000');
  assert.equal(missing.status, 404);
  assert.match(String(missing.headers['content-type']), /^text\/html/);

  const anonymous = new HttpsClient({ ca: readFileSync(site.certs.ca.certPath, 'utf8') });
  try {
    const r = await anonymous.request(`${site.baseUrl}/Organization`, { headers: { accept: BROWSER_ACCEPT } });
    assert.equal(r.status, 401);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.match(r.body, /client certificate/);
    assert.ok(!r.body.includes('Paged') && !r.body.includes('dsf-resource'), 'no data');
    for (const [file, type] of [['ui.js', /javascript/], ['ui.css', /css/]] as const) {
      const s = await anonymous.request(`${site.baseUrl}/static/${file}`);
      assert.equal(s.status, 200, file);
      assert.match(String(s.headers['content-type']), type);
    }
    assert.equal((await anonymous.request(`${site.baseUrl}/static/other.js`)).status, 401);
  } finally {
    anonymous.close();
  }
});
