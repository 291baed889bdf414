import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { ResourceValidator } from '../../../src/fhir/validation/validator.ts';
import { MapResolver, fixtureResources } from '../../fixtures/validation/fixture-resolver.ts';

const PING = 'http://test.dsf.dev/fhir/StructureDefinition/task-ping';
const ORGANIZATION = 'http://test.dsf.dev/fhir/StructureDefinition/organization';
const PING_SETTINGS = 'http://test.dsf.dev/fhir/StructureDefinition/extension-ping-settings';
const THUMBPRINT = 'http://test.dsf.dev/fhir/StructureDefinition/extension-thumbprint';
const BPMN = 'http://test.dsf.dev/fhir/CodeSystem/bpmn-message';
const PING_CS = 'http://test.dsf.dev/fhir/CodeSystem/ping';
const ORG_ROLE = 'http://test.dsf.dev/fhir/CodeSystem/organization-role';
const ORG_ID = 'http://dsf.dev/sid/organization-identifier';

type Json = Record<string, any>;

function pingTask(): Json {
  return {
    resourceType: 'Task',
    meta: { profile: [PING] },
    extension: [{ url: PING_SETTINGS, extension: [{ url: 'timeout', valuePositiveInt: 30 }, { url: 'mode', valueString: 'fast' }] }],
    instantiatesCanonical: 'http://test.dsf.dev/bpe/Process/ping|1.0',
    status: 'requested',
    intent: 'order',
    authoredOn: '2024-05-01T10:00:00+02:00',
    requester: { type: 'Organization', identifier: { system: ORG_ID, value: 'a.example.org' } },
    restriction: { recipient: [{ type: 'Organization', identifier: { system: ORG_ID, value: 'b.example.org' } }] },
    input: [
      { type: { coding: [{ system: BPMN, code: 'message-name' }] }, valueString: 'ping' },
      { type: { coding: [{ system: BPMN, code: 'business-key' }] }, valueString: 'bk-1' },
      {
        type: { coding: [{ system: PING_CS, code: 'endpoint-identifier' }] },
        valueReference: { type: 'Endpoint', identifier: { system: 'http://dsf.dev/sid/endpoint-identifier', value: 'b.example.org' } },
      },
      { type: { coding: [{ system: PING_CS, code: 'target-role' }] }, valueCoding: { system: ORG_ROLE, code: 'DIC' } },
    ],
  };
}

const THUMB = 'ab'.repeat(64);

function organization(): Json {
  return {
    resourceType: 'Organization',
    meta: { profile: [ORGANIZATION] },
    extension: [{ url: THUMBPRINT, valueString: THUMB }],
    identifier: [{ system: ORG_ID, value: 'a.example.org' }],
    active: true,
    name: 'Site A',
    endpoint: [{ reference: 'Endpoint/1', type: 'Endpoint' }],
  };
}

function newValidator(extra: Resource[] = []): { validator: ResourceValidator; resolver: MapResolver } {
  const resolver = new MapResolver([...fixtureResources(), ...extra]);
  return { validator: new ResourceValidator(resolver), resolver };
}

const shared = newValidator().validator;

function validate(r: Json, validator = shared): OperationOutcomeIssue[] {
  return validator.validate(r as Resource);
}

function errors(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
}

/** Asserts exactly the error issues expected (code and expression), showing all issues on failure. */
function assertErrors(issues: OperationOutcomeIssue[], expected: [code: string, expression: string][]): void {
  const actual = errors(issues).map((i) => [i.code, i.expression?.[0] ?? ''] as [string, string]);
  const sort = (l: [string, string][]) => [...l].sort((a, b) => (a.join() < b.join() ? -1 : 1));
  assert.deepEqual(sort(actual), sort(expected), JSON.stringify(issues, null, 1));
}

function assertValid(issues: OperationOutcomeIssue[]): void {
  assert.deepEqual(issues, [], JSON.stringify(issues, null, 1));
}

describe('ResourceValidator: valid resources', () => {
  it('accepts a complete DSF-style ping Task without any issue', () => {
    assertValid(validate(pingTask()));
  });

  it('accepts a DSF-style Organization without any issue', () => {
    assertValid(validate(organization()));
  });

  it('accepts a plain Task against the R4 base definition only', () => {
    assertValid(validate({ resourceType: 'Task', status: 'draft', intent: 'proposal' }));
  });
});

describe('ResourceValidator: structure and cardinality', () => {
  it('reports unknown elements', () => {
    const t = pingTask();
    t.foo = 1;
    t.input[0].bar = 'x';
    assertErrors(validate(t), [['structure', 'Task.foo'], ['structure', 'Task.input[0].bar']]);
  });

  it('reports a missing element required by the base (status) and by the profile (authoredOn)', () => {
    const t = pingTask();
    delete t.status;
    delete t.authoredOn;
    assertErrors(validate(t), [['required', 'Task.status'], ['required', 'Task.authoredOn']]);
  });

  it('reports more repetitions than the profile allows', () => {
    const t = pingTask();
    t.restriction.recipient.push({ identifier: { system: ORG_ID, value: 'c.example.org' } });
    assertErrors(validate(t), [['structure', 'Task.restriction.recipient']]);
  });

  it('reports a missing choice value with a [x] location inside a repeating element', () => {
    const t = pingTask();
    delete t.input[1].valueString;
    assertErrors(validate(t), [['required', 'Task.input[1].value[x]']]);
  });

  it('reports JSON shape errors: object where an array is required, array where one value is allowed, empty objects', () => {
    const t = pingTask();
    t.identifier = { value: 'x' };
    t.description = ['a'];
    t.note = [{}];
    const issues = validate(t);
    assertErrors(issues, [['structure', 'Task.identifier'], ['structure', 'Task.description'], ['invariant', 'Task.note[0]'], ['required', 'Task.note[0].text']]);
  });

  it('reports two types given for one choice element', () => {
    const t = pingTask();
    t.input[1].valueInteger = 3;
    const issues = validate(t);
    // The base sees two values for value[x]; the business-key slice allows only string.
    assertErrors(issues, [['structure', 'Task.input[1].valueInteger'], ['structure', 'Task.input[1].valueInteger']]);
    assert.ok(issues.some((i) => i.diagnostics === "Type 'Integer' is not allowed for value[x] here (allowed: string)"));
  });
});

describe('ResourceValidator: primitive datatypes', () => {
  it('rejects malformed dateTime, instant, id, uri, positiveInt, boolean and code values', () => {
    const t = pingTask();
    t.id = 'bad id!';
    t.authoredOn = '2024-13-01';
    t.meta.lastUpdated = '2024-05-01T10:00:00';
    t.instantiatesUri = 'has space';
    t.restriction.repetitions = 0;
    t.priority = 'routine ';
    const issues = validate(t);
    assertErrors(issues, [
      ['value', 'Task.id'],
      ['value', 'Task.authoredOn'],
      ['value', 'Task.meta.lastUpdated'],
      ['value', 'Task.instantiatesUri'],
      ['value', 'Task.restriction.repetitions'],
      ['value', 'Task.priority'],
    ]);
    const org = organization();
    org.active = 'true';
    assertErrors(validate(org), [['value', 'Organization.active']]);
  });

  it('accepts well-formed values of the same types, and primitive extensions', () => {
    const t = pingTask();
    t.id = 'A-1.b';
    t.authoredOn = '2024';
    t.meta.lastUpdated = '2024-05-01T10:00:00.123Z';
    t.instantiatesUri = 'urn:uuid:0c2e4a53-6e41-4bb0-9f34-7dbb1e2f2d8a';
    t.restriction.repetitions = 2;
    t.priority = 'routine';
    t._priority = { extension: [{ url: 'http://example.org/note', valueString: 'x' }] };
    const issues = validate(t);
    assertErrors(issues, []);
    assert.ok(issues.some((i) => i.severity === 'warning' && i.expression?.[0] === 'Task._priority.extension[0]') || issues.some((i) => i.code === 'not-found'));
  });

  it('checks base64Binary and decimal in other resource types', () => {
    assertValid(validate({ resourceType: 'Binary', contentType: 'text/plain', data: 'aGVsbG8gd29ybGQ=' }));
    assertErrors(validate({ resourceType: 'Binary', contentType: 'text/plain', data: 'not base64!' }), [['value', 'Binary.data']]);
    const ok = { resourceType: 'Measure', status: 'draft', group: [{ population: [{ criteria: { language: 'text/cql', expression: 'x' } }] }] };
    assertValid(validate(ok));
  });
});

describe('ResourceValidator: fixed and pattern values', () => {
  it('reports a value that differs from fixedCode and fixedString (inherited from the base profile and set by the derived one)', () => {
    const t = pingTask();
    t.intent = 'plan';
    t.input[0].valueString = 'pong';
    assertErrors(validate(t), [['value', 'Task.intent'], ['value', 'Task.input[0].valueString']]);
  });

  it('accepts an instance that contains more than a pattern, rejects one that misses it', () => {
    const t = pingTask();
    t.code = { coding: [{ system: 'http://other', code: 'o' }, { system: PING_CS, code: 'ping', display: 'Ping' }], text: 'ping' };
    assertValid(validate(t));
    t.code = { coding: [{ system: PING_CS, code: 'pong' }] };
    assertErrors(validate(t), [['value', 'Task.code']]);
  });

  it('reports a wrong fixedUri inside an unrolled Reference.identifier of a choice slice', () => {
    const t = pingTask();
    t.input[2].valueReference.identifier.system = 'http://dsf.dev/sid/organization-identifier';
    assertErrors(validate(t), [['value', 'Task.input[2].valueReference.identifier.system']]);
  });
});

describe('ResourceValidator: slicing', () => {
  it('reports a missing required slice and a slice repeated beyond its max', () => {
    const t = pingTask();
    t.input.splice(0, 1);
    assertErrors(validate(t), [['required', 'Task.input']]);
    const u = pingTask();
    u.input.push(structuredClone(u.input[0]));
    assertErrors(validate(u), [['structure', 'Task.input']]);
  });

  it('validates items against their slice (value type of the business-key slice) and leaves unmatched items on open slicing alone', () => {
    const t = pingTask();
    t.input[1].valueInteger = 1;
    delete t.input[1].valueString;
    assertErrors(validate(t), [['structure', 'Task.input[1].valueInteger'], ['required', 'Task.input[1].value[x]']]);
    const u = pingTask();
    u.input.push({ type: { coding: [{ system: 'http://example.org/other', code: 'x' }] }, valueInteger: 1 });
    assertValid(validate(u));
  });

  it('rejects items that match no slice of a closed slicing', () => {
    const org = organization();
    org.identifier.push({ system: 'http://example.org/other', value: 'x' });
    assertErrors(validate(org), [['structure', 'Organization.identifier[1]']]);
  });

  it('counts extension slices discriminated by url (thumbprint 1..*)', () => {
    const org = organization();
    org.extension = [{ url: 'http://example.org/other', valueString: 'x' }];
    assertErrors(validate(org), [['required', 'Organization.extension']]);
  });
});

describe('ResourceValidator: terminology', () => {
  it('checks required bindings of the base definition (Task.status) and of profiles (listed concepts)', () => {
    const t = pingTask();
    t.status = 'bogus';
    t.input[3].valueCoding.code = 'TTP';
    assertErrors(validate(t), [['code-invalid', 'Task.status'], ['code-invalid', 'Task.input[3].valueCoding']]);
  });

  it('warns and skips a required binding to a ValueSet it cannot resolve', () => {
    const profile: StructureDefinition = {
      resourceType: 'StructureDefinition',
      url: 'http://test.dsf.dev/fhir/StructureDefinition/task-unknown-vs',
      name: 'TaskUnknownVs',
      status: 'active',
      kind: 'resource',
      abstract: false,
      type: 'Task',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Task',
      derivation: 'constraint',
      differential: {
        element: [{ id: 'Task.businessStatus', path: 'Task.businessStatus', binding: { strength: 'required', valueSet: 'http://example.org/ValueSet/unknown' } }],
      },
    };
    const { validator } = newValidator([profile]);
    const issues = validate({ resourceType: 'Task', meta: { profile: [profile.url] }, status: 'draft', intent: 'order', businessStatus: { text: 'x' } }, validator);
    assertErrors(issues, []);
    assert.ok(issues.some((i) => i.severity === 'warning' && i.code === 'not-found' && i.expression?.[0] === 'Task.businessStatus'));
  });
});

describe('ResourceValidator: extensions', () => {
  it('validates an extension slice against its extension definition: nested sub-extensions and their value types', () => {
    const t = pingTask();
    t.extension[0].extension = [{ url: 'mode', valueString: 'fast' }];
    assertErrors(validate(t), [['required', 'Task.extension[0].extension']]);
    const u = pingTask();
    u.extension[0].extension[0] = { url: 'timeout', valueString: '30' };
    assertErrors(validate(u), [['structure', 'Task.extension[0].extension[0].valueString'], ['required', 'Task.extension[0].extension[0].value[x]']]);
  });

  it('validates extensions outside declared slices by their url when the definition is known, warns when unknown', () => {
    const t = pingTask();
    t.restriction.extension = [{ url: THUMBPRINT, valueString: 'XYZ' }];
    assertErrors(validate(t), [['invariant', 'Task.restriction.extension[0].valueString']]);
    const u = pingTask();
    u.restriction.extension = [{ url: 'http://example.org/unknown', valueBoolean: true }];
    const issues = validate(u);
    assertErrors(issues, []);
    assert.ok(issues.some((i) => i.severity === 'warning' && i.expression?.[0] === 'Task.restriction.extension[0]'));
  });

  it('evaluates a profile invariant inside an extension (thumbprint must be hex) and ext-1', () => {
    const org = organization();
    org.extension[0].valueString = 'not-hex';
    assertErrors(validate(org), [['invariant', 'Organization.extension[0].valueString']]);
    const both = organization();
    both.extension[0].extension = [{ url: 'x', valueString: 'y' }];
    assert.ok(errors(validate(both)).some((i) => i.code === 'invariant' && i.diagnostics?.startsWith('ext-1')));
  });

  it('rejects relative extension urls', () => {
    const t = pingTask();
    t.restriction.extension = [{ url: 'relative', valueString: 'x' }];
    assertErrors(validate(t), [['value', 'Task.restriction.extension[0].url']]);
  });
});

describe('ResourceValidator: references', () => {
  it('rejects literal references to types outside targetProfile, from the base and from profiles', () => {
    const t = pingTask();
    t.requester = { reference: 'Patient/1', identifier: { system: ORG_ID, value: 'x' } };
    t.input[2].valueReference.reference = 'Organization/5';
    t.partOf = [{ reference: 'https://fhir.example.org/fhir/Organization/7/_history/2' }];
    assertErrors(validate(t), [
      ['structure', 'Task.requester'],
      ['structure', 'Task.input[2].valueReference'],
      ['structure', 'Task.partOf[0]'],
    ]);
  });

  it('only warns about the type of a logical reference (identifier without reference) outside targetProfile', () => {
    const t = pingTask();
    t.input[2].valueReference.type = 'Organization';
    const issues = validate(t);
    assertErrors(issues, []);
    assert.ok(issues.some((i) => i.severity === 'warning' && i.expression?.[0] === 'Task.input[2].valueReference' && i.diagnostics?.includes('Organization')), JSON.stringify(issues));
  });

  it('accepts absolute, relative and contained references of allowed types', () => {
    const t = pingTask();
    t.requester = { reference: 'https://a.example.org/fhir/Organization/1', identifier: { system: ORG_ID, value: 'x' } };
    t.partOf = [{ reference: 'Task/abc' }];
    t.contained = [{ resourceType: 'Location', id: 'loc', name: 'Room' }];
    t.location = { reference: '#loc' };
    assertValid(validate(t));
  });
});

describe('ResourceValidator: FHIRPath invariants', () => {
  it('evaluates base invariants (inv-1: lastModified >= authoredOn; per-1 on Period)', () => {
    const t = pingTask();
    t.lastModified = '2020-01-01T00:00:00Z';
    t.executionPeriod = { start: '2024-02-01', end: '2024-01-01' };
    assertErrors(validate(t), [['invariant', 'Task'], ['invariant', 'Task.executionPeriod']]);
  });

  it('evaluates profile invariants on the resource root (business-key required once in-progress)', () => {
    const t = pingTask();
    t.status = 'in-progress';
    assertValid(validate(t));
    t.input.splice(1, 1);
    const issues = validate(t);
    assertErrors(issues, [['invariant', 'Task']]);
    assert.match(errors(issues)[0]!.diagnostics!, /test-business-key/);
  });

  it('reports a profile invariant that cannot be evaluated', () => {
    const profile: StructureDefinition = {
      resourceType: 'StructureDefinition',
      url: 'http://test.dsf.dev/fhir/StructureDefinition/task-broken-invariant',
      name: 'TaskBrokenInvariant',
      status: 'active',
      kind: 'resource',
      abstract: false,
      type: 'Task',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Task',
      derivation: 'constraint',
      differential: { element: [{ id: 'Task', path: 'Task', constraint: [{ key: 'broken-1', severity: 'error', human: 'broken', expression: 'status.noSuchFunction()' }] }] },
    };
    const { validator } = newValidator([profile]);
    const issues = validate({ resourceType: 'Task', meta: { profile: [profile.url] }, status: 'draft', intent: 'order' }, validator);
    assertErrors(issues, [['invariant', 'Task']]);
    assert.match(errors(issues)[0]!.diagnostics!, /broken-1/);
  });
});

describe('ResourceValidator: profiles', () => {
  it('reports a profile it cannot resolve, and a profile of another type', () => {
    const t = pingTask();
    t.meta.profile = ['http://example.org/StructureDefinition/nope'];
    assertErrors(validate(t), [['not-found', 'Task.meta.profile']]);
    const org = organization();
    org.meta.profile = [PING];
    assertErrors(validate(org), [['structure', 'Organization.meta.profile']]);
  });

  it('resolves versioned profile canonicals', () => {
    const t = pingTask();
    t.meta.profile = [`${PING}|1.0.0`];
    t.intent = 'plan';
    assertErrors(validate(t), [['value', 'Task.intent']]);
  });

  it('compiles each profile once: repeated validations do not resolve StructureDefinitions again', () => {
    const { validator, resolver } = newValidator();
    validate(pingTask(), validator);
    const after = resolver.lookups.filter((u) => u.includes('StructureDefinition')).length;
    for (let i = 0; i < 5; i++) validate(pingTask(), validator);
    assert.equal(resolver.lookups.filter((u) => u.includes('StructureDefinition')).length, after);
    validator.invalidate();
    validate(pingTask(), validator);
    assert.ok(resolver.lookups.filter((u) => u.includes('StructureDefinition')).length > after);
  });

});
