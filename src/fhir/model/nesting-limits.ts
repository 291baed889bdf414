// How deep FHIR input may nest. Every walk over a resource (validation, summaries, XML writing,
// indexing) recurses, so the parsers refuse anything deeper and the walks guard with the same numbers.

/** Deepest element nesting of FHIR XML input. */
export const MAX_XML_DEPTH = 256;

/** Deepest nesting of JSON objects and arrays: a FHIR element level is an object in an array, so about twice the XML limit. */
export const MAX_JSON_DEPTH = 2 * MAX_XML_DEPTH;
