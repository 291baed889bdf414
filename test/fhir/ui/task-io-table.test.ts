// A Task's inputs and outputs on its page: a table with the type (display, else code), the value and
// the parts of complex extensions as "name: value", everything escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Task } from '@medplum/fhirtypes';
import { htmlPage } from '../../../src/fhir/ui/html-page.ts';
import type { PageContext } from '../../../src/fhir/ui/ui-context.ts';

const ctx: PageContext = { site: { baseUrl: 'https://dic1.test/fhir', organization: 'Test_DIC_1' }, formatParam: false, path: 'Task/1' };
const BPMN = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';
const FEAS = 'http://dsf-ts.dev/fhir/CodeSystem/feasibility';
const SITE_RESULT = 'http://dsf-ts.dev/fhir/StructureDefinition/extension-feasibility-site-result';

/** The readable tab only (JSON and XML tabs hold the same data raw). */
function readable(page: string): string {
  return page.slice(page.indexOf('class="tab tab-html"'), page.indexOf('class="tab tab-json"'));
}

/** The rows of the table with the given class, each as the text of its cells. */
function rows(fragment: string, cls: string): string[][] {
  const table = fragment.slice(fragment.indexOf(`<table class="task-io ${cls}">`));
  const body = table.slice(table.indexOf('<tbody>'), table.indexOf('</tbody>'));
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim()));
}

function task(extra: Partial<Task>): Task {
  return { resourceType: 'Task', id: '1', status: 'completed', intent: 'order', instantiatesCanonical: 'http://dsf-ts.dev/bpe/Process/feasibilityRequest|0.1', ...extra };
}

test('inputs and outputs are tables: type, value, and extension parts as name: value', () => {
  const page = htmlPage(
    ctx,
    200,
    task({
      input: [
        { type: { coding: [{ system: BPMN, code: 'message-name' }] }, valueString: 'feasibilityRequest' },
        { type: { coding: [{ system: FEAS, code: 'criterion', display: 'Criterion' }] }, valueString: 'Patient?gender=female' },
        { type: { coding: [{ system: BPMN, code: 'business-key' }] }, valueReference: { reference: 'Binary/abc' } },
      ],
      output: [
        {
          extension: [{ url: SITE_RESULT, extension: [{ url: 'organization-identifier', valueIdentifier: { system: 'http://dsf.dev/sid/organization-identifier', value: 'Test_DIC_2' } }, { url: 'count', valueInteger: 15 }] }],
          type: { coding: [{ system: FEAS, code: 'site-result' }] },
          valueCoding: { system: 'http://dsf-ts.dev/fhir/CodeSystem/feasibility-status', code: 'answered' },
        },
        {
          extension: [{ url: SITE_RESULT, extension: [{ url: 'organization-identifier', valueIdentifier: { value: 'Test_DIC_3' } }, { url: 'error-message', valueString: 'local data repository not reachable' }] }],
          type: { coding: [{ system: FEAS, code: 'site-result' }] },
          valueCoding: { code: 'error', display: 'Error' },
        },
        { type: { coding: [{ system: FEAS, code: 'total' }] }, valueInteger: 15 },
      ],
    }),
  ).value;
  const view = readable(page);
  assert.deepEqual(rows(view, 'task-input'), [
    ['message-name', 'feasibilityRequest', ''],
    ['Criterion criterion', 'Patient?gender=female', ''],
    ['business-key', 'Binary/abc', ''],
  ]);
  assert.match(view, /<a href="https:\/\/dic1\.test\/fhir\/Binary\/abc">Binary\/abc<\/a>/, 'references are links');
  assert.deepEqual(rows(view, 'task-output'), [
    ['site-result', 'answered', 'organization-identifier: Test_DIC_2 http://dsf.dev/sid/organization-identifier count: 15'],
    ['site-result', 'Error error', 'organization-identifier: Test_DIC_3 error-message: local data repository not reachable'],
    ['total', '15', ''],
  ]);
  assert.match(view, /<h2>Inputs<\/h2>[\s\S]*<h2>Outputs<\/h2>/);
  assert.doesNotMatch(view, /valueInteger|valueString/, 'no generic name-value tree of the parameters');
  assert.match(view, /instantiatesCanonical/, 'the rest of the Task is still shown as before');
});

test('a Task without inputs or outputs has no tables; a simple extension shows its value', () => {
  assert.doesNotMatch(readable(htmlPage(ctx, 200, task({})).value), /task-io/);
  const view = readable(htmlPage(ctx, 200, task({ output: [{ type: { text: 'note' }, valueBoolean: true, extension: [{ url: 'http://x.test/StructureDefinition/reason', valueCode: 'late' }] }] })).value);
  assert.deepEqual(rows(view, 'task-output'), [['note', 'true', 'reason: late']]);
});

const HOSTILE = [`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `' onmouseover='alert(1)`, '</td></tr></table><svg onload=alert(1)>'];

test('hostile strings in codes, displays, values, systems and extension parts stay text', () => {
  for (const s of HOSTILE) {
    const page = htmlPage(
      ctx,
      200,
      task({
        input: [{ type: { coding: [{ system: s, code: s, display: s }] }, valueString: s }],
        output: [
          { type: { coding: [{ code: s }] }, valueCoding: { system: s, code: s, display: s }, extension: [{ url: s, extension: [{ url: s, valueString: s }, { url: 'count', valueIdentifier: { system: s, value: s } }] }] },
          { type: { text: s }, valueReference: { reference: `javascript:alert(1)`, display: s } },
          { type: { text: s }, valueUrl: 'javascript:alert(1)' },
          { type: { text: s }, valueQuantity: { value: 1, unit: s } },
        ],
      }),
    ).value;
    const view = readable(page);
    assert.doesNotMatch(view, /<script|<img|<svg|onmouseover='/i, s);
    assert.doesNotMatch(view, /href="javascript:/i);
    assert.equal(rows(view, 'task-output').length, 4, 'the table structure is intact');
  }
});
