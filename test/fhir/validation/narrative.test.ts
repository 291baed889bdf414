// Narrative xhtml and the invariants txt-1/txt-2: language attributes (lang and xml:lang) are valid
// narrative; scripts, event attributes, other prefixed attributes and empty narrative are not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { ResourceValidator } from '../../../src/fhir/validation/validator.ts';
import { withoutXmlLang } from '../../../src/fhir/validation/narrative-language.ts';
import { MapResolver } from '../../fixtures/validation/fixture-resolver.ts';

const validator = new ResourceValidator(new MapResolver([]));
const XHTML = 'xmlns="http://www.w3.org/1999/xhtml"';

function narrativeIssues(div: string): OperationOutcomeIssue[] {
  const patient = { resourceType: 'Patient', text: { status: 'generated', div } } as Resource;
  return validator.validate(patient).filter((i) => i.severity === 'error');
}

function failedInvariants(div: string): string[] {
  return narrativeIssues(div)
    .filter((i) => i.expression?.[0] === 'Patient.text.div')
    .map((i) => /Constraint failed: (txt-\d)/.exec(i.diagnostics ?? '')?.[1] ?? i.diagnostics ?? '')
    .sort();
}

describe('narrative xhtml (txt-1, txt-2)', () => {
  for (const div of [
    `<div ${XHTML} xml:lang="de" lang="de"><p>Hallo</p></div>`,
    `<div ${XHTML} lang="en-US" xml:lang='en-US'><p xml:lang="de-DE">Hallo</p><p title="a &gt; b">Welt</p><br/></div>`,
    `<div ${XHTML}><table><tr><td xml:lang="fr">Bonjour</td></tr></table></div>`,
  ]) {
    it(`accepts ${div}`, () => {
      assert.deepEqual(narrativeIssues(div), []);
    });
  }

  for (const [label, div] of [
    ['a script next to xml:lang', `<div ${XHTML} xml:lang="de"><script>alert(1)</script></div>`],
    ['an event attribute next to xml:lang', `<div ${XHTML} xml:lang="de" onclick="x()"><p>x</p></div>`],
    ['an unquoted xml:lang', `<div ${XHTML} xml:lang=de><p>x</p></div>`],
    ['other prefixed attributes (xml:space)', `<div ${XHTML} xml:space="preserve">x</div>`],
    ['whitespace-only content with xml:lang', `<div ${XHTML} xml:lang="de"> </div>`],
  ]) {
    it(`refuses ${label}`, () => {
      assert.deepEqual(failedInvariants(div!), ['txt-1', 'txt-2']);
    });
  }

  it('takes xml:lang out of start tags only, never out of text', () => {
    const text = `<div ${XHTML} xml:lang="de"><p>write xml:lang="de" on the div</p></div>`;
    assert.equal(withoutXmlLang(text), `<div ${XHTML}><p>write xml:lang="de" on the div</p></div>`);
  });
});
