// The JSON text a version was written with, kept with the resource object the write returned, so that
// the response to the write sends that text instead of serialising the same resource a second time.
// Keyed by the object: a copy (references cleaned, content put back in) has no text and is serialised
// as before. Nothing may change the object after its write (hooks only read it).
const texts = new WeakMap<object, string>();

/** Notes that `json` is JSON.stringify(resource), as written to the database. */
export function rememberWrittenJson(resource: object, json: string): void {
  texts.set(resource, json);
}

/** JSON.stringify(resource) when the object is one a write returned; undefined otherwise. */
export function writtenJsonOf(resource: object): string | undefined {
  return texts.get(resource);
}
