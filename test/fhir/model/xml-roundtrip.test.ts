import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import { parseFhirXml } from '../../../src/fhir/model/xml-parse.ts';
import { toFhirXml } from '../../../src/fhir/model/xml-write.ts';
import { checkJsonShape } from '../../../src/fhir/model/json-parse.ts';

const dir = fileURLToPath(new URL('../../fixtures/fhir-xml/', import.meta.url));
const read = (name: string) => readFileSync(dir + name, 'utf8');
const jsonFixtures = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'));

test('the JSON fixtures cover the resources the brief names', () => {
  for (const f of ['task.json', 'organization.json', 'endpoint.json', 'structure-definition.json', 'questionnaire.json',
    'questionnaire-response.json', 'bundle.json', 'patient-contained.json', 'parameters.json', 'measure-report.json']) {
    assert.ok(jsonFixtures.includes(f), f);
  }
});

for (const file of jsonFixtures) {
  test(`JSON -> XML -> JSON is identical: ${file}`, () => {
    const json = JSON.parse(read(file)) as Resource;
    assert.deepEqual(checkJsonShape(json), [], 'the fixture itself is well-formed FHIR JSON');
    for (const pretty of [false, true]) {
      const xml = toFhirXml(json, { pretty });
      assert.ok(xml.startsWith(`<${json.resourceType} xmlns="http://hl7.org/fhir">`));
      assert.deepEqual(parseFhirXml(xml), json);
    }
  });
}

test('XML -> JSON -> XML reproduces canonical XML exactly (task-ping.xml)', () => {
  const xml = read('task-ping.xml').trim();
  const json = parseFhirXml(xml);
  assert.equal(toFhirXml(json, { pretty: true }), xml);
  assert.equal(toFhirXml(json), xml.replace(/>\s+</g, '><'));
  const input = (json as { input: { valueString?: string; valueIdentifier?: { id?: string; _value?: unknown } }[] }).input;
  assert.equal(input[2]!.valueString, 'line1\nline2\t&<>"', 'attribute references survive');
  assert.equal(input[3]!.valueIdentifier!.id, 'i1');
  assert.deepEqual(input[3]!.valueIdentifier!._value, { extension: [{ url: 'http://example.org/ext/source', valueCode: 'config' }] });
});

test('XML with prefixes, comments, declaration, CDATA in narrative and foreign attributes parses to the expected JSON', () => {
  const json = parseFhirXml(read('dsf-bundle.xml'));
  assert.deepEqual(json, JSON.parse(read('dsf-bundle.expected.json')));
  // and the canonical XML written from it parses back to the same JSON
  assert.deepEqual(parseFhirXml(toFhirXml(json, { pretty: true })), json);
});

test('XML -> JSON -> XML -> JSON is stable for every fixture written as XML', () => {
  for (const file of jsonFixtures) {
    const xml = toFhirXml(JSON.parse(read(file)) as Resource);
    const again = toFhirXml(parseFhirXml(xml));
    assert.equal(again, xml, file);
  }
});

test('primitive arrays with missing values and shadows use aligned arrays with nulls', () => {
  const xml = `<Patient xmlns="http://hl7.org/fhir"><name><given value="a"/><given id="x"/><given value="c"/><given value="d"/></name>
    <name><given id="only"/><given id="ids"/></name></Patient>`;
  const json = parseFhirXml(xml) as unknown as { name: Record<string, unknown>[] };
  assert.deepEqual(json.name[0], { given: ['a', null, 'c', 'd'], _given: [null, { id: 'x' }, null, null] });
  assert.deepEqual(json.name[1], { _given: [{ id: 'only' }, { id: 'ids' }] }, 'a value array of only nulls is left out');
  assert.equal(toFhirXml(json as unknown as Resource), xml.replace(/>\s+</g, '><'));
});

test('numbers and booleans become JSON numbers and booleans by type; strings stay strings', () => {
  const json = parseFhirXml(`<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="12"/></code>
    <valueQuantity><value value="-0.0015"/></valueQuantity><interpretation><text value="true"/></interpretation>
    <component><code><text value="c"/></code><valueInteger value="-7"/></component>
    <component><code><text value="c"/></code><valueBoolean value="true"/></component>
    <component><code><text value="c"/></code><valueQuantity><value value="1.0e3"/></valueQuantity></component></Observation>`) as any;
  assert.equal(json.code.text, '12');
  assert.equal(json.valueQuantity.value, -0.0015);
  assert.equal(json.interpretation[0].text, 'true');
  assert.equal(json.component[0].valueInteger, -7);
  assert.equal(json.component[1].valueBoolean, true);
  assert.equal(json.component[2].valueQuantity.value, 1000);
  assert.match(toFhirXml(json), /<value value="-0\.0015"\/>/);
});

test('decimals keep the value JavaScript numbers can hold; trailing zeros are not kept', () => {
  const json = parseFhirXml('<Basic xmlns="http://hl7.org/fhir"><extension url="u"><valueDecimal value="3.1415926535897931"/></extension><code><text value="t"/></code></Basic>') as any;
  assert.equal(json.extension[0].valueDecimal, 3.141592653589793);
  const again = parseFhirXml('<Basic xmlns="http://hl7.org/fhir"><extension url="u"><valueDecimal value="1.50"/></extension><code><text value="t"/></code></Basic>') as any;
  assert.equal(again.extension[0].valueDecimal, 1.5);
  assert.match(toFhirXml(again), /<valueDecimal value="1\.5"\/>/);
});

test('the writer orders elements by definition, whatever the JSON property order', () => {
  const xml = toFhirXml({ intent: 'order', status: 'draft', input: [{ valueString: 'x', type: { text: 't' } }], id: '1', resourceType: 'Task' } as Resource);
  assert.equal(xml, '<Task xmlns="http://hl7.org/fhir"><id value="1"/><status value="draft"/><intent value="order"/><input><type><text value="t"/></type><valueString value="x"/></input></Task>');
});

test('narrative without namespace in JSON is written in the XHTML namespace; malformed narrative is written as text', () => {
  const ok = toFhirXml({ resourceType: 'Patient', text: { status: 'generated', div: '<div><p>x</p></div>' } } as Resource);
  assert.match(ok, /<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml"><p>x<\/p><\/div>/);
  const bad = toFhirXml({ resourceType: 'Patient', text: { status: 'generated', div: '<div><p>x</div>' } } as Resource);
  assert.match(bad, /<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml">&lt;div&gt;&lt;p&gt;x&lt;\/div&gt;<\/div>/);
  assert.equal((parseFhirXml(bad) as any).text.div, '<div xmlns="http://www.w3.org/1999/xhtml">&lt;div&gt;&lt;p&gt;x&lt;/div&gt;</div>');
  const html = toFhirXml({ resourceType: 'Patient', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">a&nbsp;b &copy;</div>' } } as Resource);
  assert.match(html, /<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml">a\u00a0b \u00a9<\/div>/, 'HTML entities in JSON narrative become characters');
});

test('OperationOutcome (as used for error responses) converts', () => {
  const oo = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'bad <input>', expression: ['Task.status'] }] } as Resource;
  const xml = toFhirXml(oo);
  assert.match(xml, /<diagnostics value="bad &lt;input&gt;"\/>/);
  assert.deepEqual(parseFhirXml(xml), oo);
});
