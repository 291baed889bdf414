// DSF Questionnaire and QuestionnaireResponse profiles: their item slicing is closed by linkId with
// the named slices user-task-id and business-key plus a default slice (@default) for all other items.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadCoreResources } from '../../../src/fhir/conformance/core-resources.ts';
import { ResourceValidator } from '../../../src/fhir/validation/validator.ts';
import { MapResolver } from '../../fixtures/validation/fixture-resolver.ts';

const validator = new ResourceValidator(new MapResolver(loadCoreResources()));
const RAT = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';
const USER_TASK_ID_TEXT = 'The user-task-id of the process execution';
const BUSINESS_KEY_TEXT = 'The business-key of the process execution';

type Json = Record<string, any>;

function questionnaire(): Json {
  return {
    resourceType: 'Questionnaire',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire|2.0.0'], tag: [{ system: RAT, code: 'ALL' }] },
    url: 'http://dsf.dev/fhir/Questionnaire/release-data',
    version: '1.0',
    date: '2025-03-01',
    status: 'active',
    item: [
      { linkId: 'business-key', type: 'string', text: BUSINESS_KEY_TEXT, required: true },
      { linkId: 'user-task-id', type: 'string', text: USER_TASK_ID_TEXT, required: true },
      { linkId: 'explanation', type: 'display', text: 'Please decide whether the data set may be released.' },
      { linkId: 'release', type: 'boolean', text: 'Release the data set?', required: true },
      { linkId: 'comment', type: 'text', text: 'Comment', required: false },
    ],
  };
}

function questionnaireResponse(): Json {
  return {
    resourceType: 'QuestionnaireResponse',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/questionnaire-response|2.0.0'], tag: [{ system: RAT, code: 'LOCAL' }] },
    questionnaire: 'http://dsf.dev/fhir/Questionnaire/release-data|1.0',
    status: 'in-progress',
    authored: '2025-03-01T12:00:00+01:00',
    item: [
      { linkId: 'business-key', text: BUSINESS_KEY_TEXT, answer: [{ valueString: 'a5f3c1f4-3f0e-4d5f-9c77-2f2f3c0b1a11' }] },
      { linkId: 'user-task-id', text: USER_TASK_ID_TEXT, answer: [{ valueString: '7d0b5e8a-1c1d-11f0-8b3a-0242ac120002' }] },
      { linkId: 'explanation', text: 'Please decide whether the data set may be released.' },
      { linkId: 'release', text: 'Release the data set?', answer: [{ valueBoolean: true }] },
      { linkId: 'count', text: 'Number of records', answer: [{ valueInteger: 12 }] },
      { linkId: 'reviewer', text: 'Reviewer', answer: [{ valueReference: { identifier: { system: 'http://dsf.dev/sid/practitioner-identifier', value: 'reviewer@dic.test' } } }] },
    ],
  };
}

function errors(resource: Json): OperationOutcomeIssue[] {
  return validator.validate(resource as Resource).filter((i) => i.severity === 'error');
}

function warnings(resource: Json): OperationOutcomeIssue[] {
  return validator.validate(resource as Resource).filter((i) => i.severity === 'warning');
}

function describeIssues(issues: OperationOutcomeIssue[]): string {
  return issues.map((i) => `${i.code} ${i.expression?.[0]}: ${i.diagnostics}`).join('\n');
}

function has(issues: OperationOutcomeIssue[], code: string, expression: string, text: string): boolean {
  return issues.some((i) => i.code === code && i.expression?.[0] === expression && !!i.diagnostics?.includes(text));
}

describe('DSF QuestionnaireResponse (items sliced by linkId with a @default slice)', () => {
  it('accepts user-task-id, business-key and further answer items of the allowed types', () => {
    const found = errors(questionnaireResponse());
    assert.deepEqual(found, [], describeIssues(found));
  });

  // The profile targets Organization only, yet its invariants (and the reference's own profile tests) allow a Practitioner author.
  it('accepts a completed response with authored and a practitioner author identifier', () => {
    const qr = questionnaireResponse();
    qr.status = 'completed';
    qr.author = { type: 'Practitioner', identifier: { system: 'http://dsf.dev/sid/practitioner-identifier', value: 'reviewer@dic.test' } };
    const found = errors(qr);
    assert.deepEqual(found, [], describeIssues(found));
  });

  // The reference downgrades errors on QuestionnaireResponse.item:@default to warnings (a HAPI problem).
  it('reports the @default slice constraints on the other items as warnings, not errors', () => {
    const qr = questionnaireResponse();
    qr.item[3].answer.push({ valueBoolean: false });
    qr.item[2].item = [{ linkId: 'nested', text: 'Nested' }];
    delete qr.item[2].text;
    qr.item[5].answer = [{ valueAttachment: { contentType: 'text/plain' } }];
    const found = warnings(qr);
    assert.ok(has(found, 'structure', 'QuestionnaireResponse.item[3].answer', 'max allowed = 1, but found 2'), describeIssues(found));
    assert.ok(has(found, 'structure', 'QuestionnaireResponse.item[2].item', 'max allowed = 0, but found 1'), describeIssues(found));
    assert.ok(has(found, 'required', 'QuestionnaireResponse.item[2].text', 'minimum required = 1'), describeIssues(found));
    assert.ok(has(found, 'structure', 'QuestionnaireResponse.item[5].answer[0].valueAttachment', "Type 'Attachment' is not allowed"), describeIssues(found));
    assert.ok(found.every((i) => i.diagnostics?.includes('QuestionnaireResponse.item:@default')), describeIssues(found));
    const errs = errors(qr);
    assert.deepEqual(errs, [], describeIssues(errs));
  });

  it('keeps errors of the base definition in @default items, and errors elsewhere', () => {
    const qr = questionnaireResponse();
    delete qr.item[3].linkId;
    qr.item[4].answer = [{ valueInteger: 'twelve' }];
    delete qr.questionnaire;
    const found = errors(qr);
    assert.ok(has(found, 'required', 'QuestionnaireResponse.item[3].linkId', 'minimum required = 1'), describeIssues(found));
    assert.ok(has(found, 'value', 'QuestionnaireResponse.item[4].answer[0].valueInteger', ''), describeIssues(found));
    assert.ok(has(found, 'required', 'QuestionnaireResponse.questionnaire', 'minimum required = 1'), describeIssues(found));
  });

  it('still applies the named slices: user-task-id is required and its text fixed', () => {
    const qr = questionnaireResponse();
    qr.item.splice(1, 1);
    qr.item[0].text = 'Business key';
    const found = errors(qr);
    assert.ok(has(found, 'required', 'QuestionnaireResponse.item', 'item:user-task-id: minimum required = 1, but only found 0'), describeIssues(found));
    assert.ok(has(found, 'value', 'QuestionnaireResponse.item[0].text', BUSINESS_KEY_TEXT), describeIssues(found));
  });

  it('keeps the profile invariants: a completed response needs an author', () => {
    const qr = questionnaireResponse();
    qr.status = 'completed';
    const found = errors(qr);
    assert.ok(has(found, 'invariant', 'QuestionnaireResponse', 'author-if-completed-or-amended'), describeIssues(found));
  });
});

describe('DSF Questionnaire (items sliced by linkId with a @default slice)', () => {
  it('accepts user-task-id, business-key, display and answer items', () => {
    const found = errors(questionnaire());
    assert.deepEqual(found, [], describeIssues(found));
  });

  // The published tutorial's Questionnaire: a display item and a boolean item without text.
  it('accepts items without text in the @default slice, with warnings (as the reference)', () => {
    const q = questionnaire();
    delete q.item[2].text;
    delete q.item[3].text;
    q.item[4].prefix = '1.';
    const errs = errors(q);
    assert.deepEqual(errs, [], describeIssues(errs));
    const found = warnings(q);
    assert.ok(has(found, 'required', 'Questionnaire.item[2].text', 'minimum required = 1'), describeIssues(found));
    assert.ok(has(found, 'required', 'Questionnaire.item[3].text', 'minimum required = 1'), describeIssues(found));
    assert.ok(has(found, 'structure', 'Questionnaire.item[4].prefix', 'max allowed = 0'), describeIssues(found));
  });

  it('keeps the named slices and the rest of the profile strict', () => {
    const q = questionnaire();
    q.item[0].text = 'Business key';
    delete q.version;
    delete q.item[2].text;
    const found = errors(q);
    assert.ok(has(found, 'value', 'Questionnaire.item[0].text', BUSINESS_KEY_TEXT), describeIssues(found));
    assert.ok(has(found, 'required', 'Questionnaire.version', 'minimum required = 1'), describeIssues(found));
    assert.ok(!found.some((i) => i.expression?.[0] === 'Questionnaire.item[2].text'), describeIssues(found));
  });

  it('refuses other items of a disallowed type or without required, and a missing user-task-id', () => {
    const q = questionnaire();
    q.item[3].type = 'attachment';
    delete q.item[4].required;
    q.item.splice(1, 1);
    const found = errors(q);
    assert.ok(has(found, 'invariant', 'Questionnaire.item[2]', 'type-code'), describeIssues(found));
    assert.ok(has(found, 'invariant', 'Questionnaire.item[3]', 'required-exists'), describeIssues(found));
    assert.ok(has(found, 'required', 'Questionnaire.item', 'item:user-task-id: minimum required = 1'), describeIssues(found));
  });
});
