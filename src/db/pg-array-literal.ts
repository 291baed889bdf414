// PostgreSQL array literals ('{"a",NULL,"b"}') for array parameters, built here instead of by the pg
// driver: the write statements' columns (its serialiser runs two regular-expression replaces per
// element, and a group of creates sends some fifty elements per create) and the coalescer's batch
// columns. The text is the driver's own, character for character (pg-array-literal.test.ts); only flat
// arrays of strings, numbers, booleans and nulls, which is all either sends.

type Element = string | number | boolean | null | undefined;

const BACKSLASH = 92;
const QUOTE = 34;

/** One element, quoted; backslashes and double quotes escaped. */
function quoted(text: string): string {
  // Most values hold neither character: one scan instead of two replaces.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH || c === QUOTE) return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  }
  return `"${text}"`;
}

/** One element of an array literal: NULL, or the value's text quoted. */
export function pgArrayElement(v: Element): string {
  return v === null || v === undefined ? 'NULL' : quoted(String(v));
}

/** The array literal of `values`, as the pg driver would send the array. */
export function pgArrayLiteral(values: readonly Element[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += pgArrayElement(values[i]);
  }
  return out + '}';
}
