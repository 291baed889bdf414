import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../../src/common/errors.ts';
import { parseFhirXml } from '../../../src/fhir/model/xml-parse.ts';
import { toFhirXml } from '../../../src/fhir/model/xml-write.ts';

const NS = 'xmlns="http://hl7.org/fhir"';

/** Asserts parseFhirXml throws a 400 FhirError whose message matches; returns the error. */
function rejects(xml: string, message: RegExp, expression?: string): FhirError {
  let caught: unknown;
  try {
    parseFhirXml(xml);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof FhirError, `expected a FhirError for ${xml}, got ${String(caught)}`);
  assert.equal(caught.status, 400);
  assert.match(caught.message, message);
  assert.equal(caught.outcome.resourceType, 'OperationOutcome');
  if (expression) assert.deepEqual(caught.outcome.issue![0]!.expression, [expression]);
  return caught;
}

test('malformed XML, empty documents and a second root are rejected', () => {
  rejects(`<Task ${NS}><status value="draft"/>`, /Malformed XML/);
  rejects(`<Task ${NS}><status value="draft"></Task>`, /Malformed XML/);
  rejects('', /Malformed XML|no FHIR resource/);
  rejects('   ', /Malformed XML|no FHIR resource/);
  rejects(`<Task ${NS}/><Task ${NS}/>`, /Malformed XML|second root/);
  rejects(`<Task ${NS}><status value="a & b"/></Task>`, /Malformed XML/);
});

test('DOCTYPE and entity declarations are rejected (no XXE)', () => {
  rejects(`<?xml version="1.0"?><!DOCTYPE Task [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Task ${NS}><status value="&xxe;"/></Task>`, /DOCTYPE|Malformed/);
  rejects(`<!DOCTYPE Task><Task ${NS}/>`, /DOCTYPE declarations are not allowed/);
  rejects(`<Task ${NS}><status value="&undefined;"/></Task>`, /Malformed XML/);
});

test('the root must be a concrete FHIR resource in the FHIR namespace', () => {
  rejects('<Task><status value="draft"/></Task>', /namespace http:\/\/hl7\.org\/fhir/);
  rejects('<Task xmlns="http://example.org"/>', /namespace http:\/\/hl7\.org\/fhir/);
  rejects(`<Coding ${NS}/>`, /'Coding' is not a resource type/);
  rejects(`<Resource ${NS}/>`, /'Resource' is not a resource type/);
  rejects(`<Nonsense ${NS}/>`, /'Nonsense' is not a resource type/);
});

test('unknown elements are reported with line, column and location', () => {
  const e = rejects(`<Task ${NS}>\n  <status value="draft"/>\n  <input>\n    <type><text value="t"/></type>\n    <bogus value="x"/>\n  </input>\n</Task>`, /line 5.*Task\.input\[0\].*Unknown element <bogus> in Task\.input/s, 'Task.input[0]');
  assert.equal(e.outcome.issue![0]!.code, 'structure');
  rejects(`<Task ${NS}><valueString value="x"/></Task>`, /Unknown element <valueString> in Task/);
  rejects(`<Task ${NS}><input><value value="x"/></input></Task>`, /Unknown element <value>/, 'Task.input[0]');
  rejects(`<Task ${NS}><status><value value="x"/></status></Task>`, /Unknown element <value> in code/, 'Task.status');
});

test('elements in the wrong namespace are rejected', () => {
  rejects(`<Task ${NS}><status xmlns="http://example.org" value="draft"/></Task>`, /must be in namespace http:\/\/hl7\.org\/fhir/);
  rejects(`<Patient ${NS}><text><status value="generated"/><div><p>x</p></div></text></Patient>`, /<div> must be in namespace http:\/\/www\.w3\.org\/1999\/xhtml/);
  rejects(`<Patient ${NS}><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><x:p xmlns:x="urn:other">x</x:p></div></text></Patient>`, /not in the XHTML namespace/);
  rejects(`<Patient ${NS}><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml" xmlns:o="urn:o" o:a="1">x</div></text></Patient>`, /attribute 'o:a'.*not allowed/);
});

test('cardinality: single elements may not repeat, only one choice variant', () => {
  rejects(`<Task ${NS}><status value="draft"/><status value="ready"/></Task>`, /<status> may occur only once in Task/);
  rejects(`<Task ${NS}><input><type><text value="t"/></type><valueString value="a"/><valueInteger value="1"/></input></Task>`, /Only one of the choices value\[x\]/);
});

test('attributes: only value, id and url where the definitions allow them', () => {
  rejects(`<Task ${NS}><status value="draft" foo="bar"/></Task>`, /Attribute 'foo' is not allowed on <status>/);
  rejects(`<Task ${NS}><requester value="x"><display value="d"/></requester></Task>`, /Attribute 'value' is not allowed on <requester>/);
  rejects(`<Task ${NS}><input url="x"><type><text value="t"/></type><valueString value="a"/></input></Task>`, /Attribute 'url' is not allowed on <input>/);
  rejects(`<Task ${NS} id="x"/>`, /Attribute 'id' is not allowed on <Task>/);
  rejects(`<Task ${NS}><contained id="c"><Patient/></contained></Task>`, /Attribute 'id' is not allowed on <contained>/);
  // attributes in other namespaces (xsi:schemaLocation) are ignored
  assert.deepEqual(parseFhirXml(`<Task ${NS} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="x"><status value="draft"/></Task>`), { resourceType: 'Task', status: 'draft' });
});

test('primitive values are checked against their type', () => {
  rejects(`<Patient ${NS}><active value="yes"/></Patient>`, /Invalid boolean 'yes'/, 'Patient.active');
  rejects(`<Patient ${NS}><multipleBirthInteger value="1.5"/></Patient>`, /Invalid integer '1\.5'/);
  rejects(`<Patient ${NS}><multipleBirthInteger value="2147483648"/></Patient>`, /out of range/);
  rejects(`<Patient ${NS}><extension url="u"><valuePositiveInt value="0"/></extension></Patient>`, /positiveInt '0'.*out of range/);
  rejects(`<Patient ${NS}><extension url="u"><valueUnsignedInt value="-1"/></extension></Patient>`, /unsignedInt '-1'.*out of range/);
  rejects(`<Patient ${NS}><extension url="u"><valueDecimal value="1,5"/></extension></Patient>`, /Invalid decimal '1,5'/);
  rejects(`<Patient ${NS}><extension url="u"><valueDecimal value="1e999"/></extension></Patient>`, /out of range/);
  rejects(`<Patient ${NS}><gender value=""/></Patient>`, /Empty value attribute/);
});

test('elements without content are rejected', () => {
  rejects(`<Patient ${NS}><gender/></Patient>`, /neither a value nor extensions/, 'Patient.gender');
  rejects(`<Patient ${NS}><maritalStatus/></Patient>`, /has no content/, 'Patient.maritalStatus');
  rejects(`<Patient ${NS}><name><given/></name></Patient>`, /neither a value nor extensions/, 'Patient.name[0].given[0]');
});

test('resource wrappers must hold exactly one resource of an allowed type', () => {
  rejects(`<Patient ${NS}><contained></contained></Patient>`, /must contain a resource/);
  rejects(`<Patient ${NS}><contained><Organization><name value="a"/></Organization><Organization><name value="b"/></Organization></contained></Patient>`, /only one resource/);
  rejects(`<Patient ${NS}><contained><name value="x"/></contained></Patient>`, /'name' is not a resource type/);
  rejects(`<Patient ${NS}><contained><Patient xmlns="urn:x"/></contained></Patient>`, /must be a FHIR resource in namespace/);
  rejects(`<Bundle ${NS}><type value="batch-response"/><entry><response><status value="200"/><outcome><Patient><id value="x"/></Patient></outcome></response></entry></Bundle>`, /Expected a OperationOutcome resource, found Patient/);
});

test('documents nested deeper than the limit are refused', () => {
  const item = (n: number): string => (n === 0 ? '' : `<item><linkId value="l${n}"/><type value="group"/>${item(n - 1)}</item>`);
  assert.ok(parseFhirXml(`<Questionnaire ${NS}><status value="draft"/>${item(100)}</Questionnaire>`));
  rejects(`<Questionnaire ${NS}><status value="draft"/>${item(300)}</Questionnaire>`, /nested deeper than 256 levels/);
});

test('text content is allowed only in the narrative', () => {
  rejects(`<Task ${NS}><status value="draft">draft</status></Task>`, /Unexpected text content 'draft'/);
  rejects(`<Task ${NS}><status value="draft"><![CDATA[x]]></status></Task>`, /Unexpected text content/);
});

test('the writer refuses JSON that does not fit the definitions', () => {
  const fails = (r: unknown, message: RegExp) =>
    assert.throws(() => toFhirXml(r as Resource), (e: unknown) => e instanceof FhirError && e.status === 500 && message.test(e.message));
  fails({ resourceType: 'Nope' }, /'Nope' is not a FHIR resource type/);
  fails({ status: 'draft' }, /'undefined' is not a FHIR resource type/);
  fails({ resourceType: 'Task', foo: 1 }, /unknown property 'foo' in Task/);
  fails({ resourceType: 'Task', _requester: {} }, /unknown property '_requester'/);
  fails({ resourceType: 'Task', identifier: { value: 'x' } }, /Task\.identifier: expected an array/);
  fails({ resourceType: 'Task', requester: [{ display: 'x' }] }, /expected a single value, not an array/);
  fails({ resourceType: 'Task', status: { code: 'x' } }, /Task\.status: expected a primitive value/);
  fails({ resourceType: 'Task', status: null }, /expected a primitive value/);
  fails({ resourceType: 'Task', _status: { foo: 1 } }, /unknown property 'foo' in '_status'/);
  fails({ resourceType: 'Task', contained: [{ id: 'x' }] }, /Task\.contained\[0\]: 'undefined' is not a FHIR resource type/);
});

test('the writer replaces characters XML cannot carry (stored before input refused them) with U+FFFD', () => {
  const xml = toFhirXml({ resourceType: 'Task', description: 'bell \u0007, nul \u0000, lone \ud800, pair \ud83d\ude00' } as Resource);
  assert.match(xml, /<description value="bell \uFFFD, nul \uFFFD, lone \uFFFD, pair \ud83d\ude00"\/>/);
});
