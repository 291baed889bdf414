// parseFhirJson checks each parsed key and string for forbidden characters only when the text could
// hold one (an escape, a raw U+FFFE/U+FFFF). Outcomes must be as with the check of every value:
// refusals with the same message and location, acceptance of the same texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFhirJson } from '../../../src/fhir/model/json-parse.ts';
import { FhirError } from '../../../src/common/errors.ts';

const outcome = (text: string) => {
  try {
    return { ok: parseFhirJson(text) };
  } catch (e) {
    assert.ok(e instanceof FhirError, String(e));
    return { status: e.status, issues: e.outcome.issue };
  }
};

/** [body, expected diagnostics (undefined: accepted)] */
const cases: [string, string | undefined][] = [
  ['{"resourceType":"Patient","active":true,"name":[{"family":"Müller\\tX\\nY\\r"}]}', undefined],
  ['{"resourceType":"Patient","name":[{"family":"\\ud83d\\ude00 pair"}]}', undefined],
  ['{"resourceType":"Patient","name":[{"family":"C:\\\\users"}]}', undefined],
  ['{"resourceType":"Patient","name":[{"family":"x\\u0007y"}]}', 'The value contains the character U+0007 (FHIR text must not contain control characters other than tab, line feed and carriage return, U+FFFE, U+FFFF or lone surrogates) at Patient.name[0].family'],
  ['{"resourceType":"Patient","name":[{"family":"x\\ud800y"}]}', 'The value contains a lone surrogate U+D800 (FHIR text must not contain control characters other than tab, line feed and carriage return, U+FFFE, U+FFFF or lone surrogates) at Patient.name[0].family'],
  ['{"resourceType":"Patient","name":[{"family":"x\uFFFEy"}]}', 'The value contains the character U+FFFE (FHIR text must not contain control characters other than tab, line feed and carriage return, U+FFFE, U+FFFF or lone surrogates) at Patient.name[0].family'],
  ['{"resourceType":"Patient","na\\u0001me":[]}', 'The property name contains the character U+0001 (FHIR text must not contain control characters other than tab, line feed and carriage return, U+FFFE, U+FFFF or lone surrogates) at Patient.na\u0001me'],
  ['{"resourceType":"Patient","name":[{"family":"x\uFFFFy"}],"\uFFFF":1}', 'The property name contains the character U+FFFF (FHIR text must not contain control characters other than tab, line feed and carriage return, U+FFFE, U+FFFF or lone surrogates) at Patient.\uFFFF'],
];

test('forbidden characters: same refusals and acceptances with the text pre-check', () => {
  for (const [text, diagnostics] of cases) {
    const r = outcome(text);
    if (diagnostics === undefined) {
      assert.ok('ok' in r, `accepted: ${text}`);
      assert.deepEqual(r.ok, JSON.parse(text));
    } else {
      assert.equal(r.status, 400, text);
      assert.equal((r.issues as { diagnostics?: string }[])[0]!.diagnostics, diagnostics, text);
    }
  }
});
