// Narrative xhtml may carry xml:lang next to lang (FHIR's multi-language narrative uses both), but
// fhirpath's htmlChecks() behind txt-1/txt-2 refuses every namespace-prefixed attribute. The
// invariants are therefore evaluated on the xhtml with its quoted xml:lang attributes taken out of
// the start tags; everything else (elements, other attributes, well-formedness) is still checked there.

/** A start tag: name, then attribute text in which quoted values may hold any character but their quote. */
const START_TAG = /<[A-Za-z][^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*\/?>/g;
/** xml:lang with a quoted, non-empty language tag of letters, digits and hyphens. */
const XML_LANG = /\s+xml:lang\s*=\s*(?:"[A-Za-z0-9-]+"|'[A-Za-z0-9-]+')/g;

export function withoutXmlLang(xhtml: string): string {
  if (!xhtml.includes('xml:lang')) return xhtml;
  return xhtml.replace(START_TAG, (tag) => tag.replace(XML_LANG, ''));
}
