// The researcher reads the result of a feasibility request in the FHIR server's web UI: the completed
// Task as a page (_format=html) shows, without script, every site's organisation, status and count and
// the total in its readable view (the outputs table). One DIC answers with a count, one whose data repository is down with
// an error; the request is asked with the organisation's client certificate, as any local client would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import type { Task } from '@medplum/fhirtypes';
import { draftTaskIdentifier, startTestNetwork, type TestNetwork } from '../../src/testkit/index.ts';
import { HttpsClient } from '../../src/common/https-client.ts';
import { syntheticPatients } from '../../src/research-data/synthetic-patients.ts';

const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '../../plugins/feasibility');
const SYSTEM = 'http://dsf-ts.dev/fhir/CodeSystem/feasibility';
const REQUEST = draftTaskIdentifier('http://dsf-ts.dev/bpe/Process/feasibilityRequest', '0.1', 'task-feasibility-request');
const PATIENTS = 40;

let network: TestNetwork;
let http: HttpsClient | undefined;

before(async () => {
  network = await startTestNetwork({
    sites: [
      { organization: 'Test_HRP', env: { DEV_DSF_FEASIBILITY_TIMEOUT: 'PT90S' } },
      { organization: 'Test_DIC_1', dataRepository: { patients: PATIENTS }, env: { DEV_DSF_FEASIBILITY_THRESHOLD: '1', DEV_DSF_FEASIBILITY_ROUNDING: '1' } },
      { organization: 'Test_DIC_2', dataRepository: { patients: PATIENTS } },
    ],
    plugins: [PLUGIN],
  });
});

after(async () => {
  http?.close();
  await network?.stop();
});

/** The text of an HTML fragment as a reader sees it: tags gone, entities decoded, white space collapsed. */
function text(fragment: string): string {
  return fragment
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

test('the completed feasibility Task as a page shows each site\'s result and the total in its readable view', { timeout: 240_000 }, async () => {
  const hrp = network.site('Test_HRP');
  await network.site('Test_DIC_2').dataRepository!.server.stop();
  const criterion = 'Patient?gender=female';
  const started = await hrp.startProcess(REQUEST, { inputs: [{ type: { coding: [{ system: SYSTEM, code: 'criterion' }] }, valueString: criterion }] });
  const done: Task = await hrp.waitForTask(started.id!, ['completed', 'failed'], { timeoutMs: 120_000 });
  assert.equal(done.status, 'completed', JSON.stringify(done.output));
  const females = [...syntheticPatients({ site: 'Test_DIC_1', count: PATIENTS })].filter((p) => p.patient.gender === 'female').length;

  const hrpCert = network.certificates.organizations['Test_HRP']!.client;
  http = new HttpsClient({ cert: readFileSync(hrpCert.certPath, 'utf8'), key: readFileSync(hrpCert.keyPath, 'utf8'), ca: readFileSync(network.certificates.ca.certPath, 'utf8') });
  const page = await http.request(`${hrp.fhirBaseUrl}/Task/${done.id}?_format=html`, { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200, page.body.slice(0, 500));
  assert.match(String(page.headers['content-type']), /^text\/html/);
  // The readable view (the first tab) holds the outputs; the JSON and XML tabs would too, so look there only.
  const readableStart = page.body.indexOf('class="tab tab-html"');
  const readableEnd = page.body.indexOf('class="tab tab-json"');
  assert.ok(readableStart > 0 && readableEnd > readableStart, 'the page has a readable view before its JSON view');
  const readable = text(page.body.slice(readableStart, readableEnd));
  const outputs = readable.slice(readable.indexOf('Outputs'));
  assert.ok(readable.includes('Outputs'), 'the outputs are shown');
  assert.ok(readable.includes('completed'), 'the status is shown');
  assert.ok(readable.includes(criterion), 'the question asked is shown');
  // The outputs are a table (task-io-view.ts): per site its status, then its organisation identifier and
  // its count or error as "name: value"; then the total.
  const dic1 = outputs.indexOf('Test_DIC_1');
  const dic2 = outputs.indexOf('Test_DIC_2');
  assert.ok(dic1 >= 0 && dic2 > dic1, `both sites are named in the outputs: ${outputs.slice(0, 2000)}`);
  const first = outputs.slice(outputs.lastIndexOf('site-result', dic1), dic2);
  assert.match(first, /site-result answered organization-identifier: Test_DIC_1/);
  assert.match(first, new RegExp(`count: ${females}\\b`), `DIC 1's count: ${first}`);
  const second = outputs.slice(dic2);
  assert.match(second, /error-message: local data repository not reachable/);
  assert.match(outputs.slice(outputs.lastIndexOf('site-result', dic2)), /site-result error organization-identifier: Test_DIC_2/);
  assert.match(second, new RegExp(`total ${females}\\b`), `the total: ${second}`);
  // Nothing but readable text: no raw JSON of the outputs in the readable view.
  assert.doesNotMatch(page.body.slice(readableStart, readableEnd), /"valueInteger"\s*:/);
});
