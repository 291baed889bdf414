// A stored resource as JSON text without parsing it: PostgreSQL's text form of a jsonb value
// (`resource::text`) with the spaces it puts after ':' and ',' removed. The result is the same text
// JSON.stringify(JSON.parse(text)) gives, or undefined where the two could differ, so that a caller
// can fall back to parsing: decimals and exponents (JavaScript numbers drop "1.0"'s precision),
// integers beyond 15 digits, -0, and keys starting with a digit (JavaScript objects put integer-like
// keys first). Strings come out byte for byte: jsonb escapes exactly what JSON.stringify escapes
// (quote, backslash, control characters, \u00xx in lower case) and stores no lone surrogates.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const SPACE = 0x20;

/** Told about each object key, the first character of its value (a char code) and its depth (1: the outermost object). */
export type KeyWatcher = (key: string, valueStart: number, depth: number) => void;

/**
 * The same as a KeyWatcher, told the key by its place: text.slice(start, end), as written (escapes kept).
 * Cheaper: a watcher that looks for a few names compares lengths and characters in place instead of
 * being handed a fresh string for every key.
 */
export interface KeyPlaceWatcher {
  keyAt(text: string, start: number, end: number, valueStart: number, depth: number): void;
}

const isSpace = (c: number) => c === SPACE || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= ZERO && c <= NINE;

/** The end (index of the closing quote) of the string starting at `open`; -1 when unterminated. */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    if (text.charCodeAt(q - 1) !== BACKSLASH) return q;
    let b = q - 2;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    // An even number of backslashes before the quote: it is not escaped.
    if ((q - 1 - b) % 2 === 0) return q;
    from = q + 1;
  }
}

/** A KeyWatcher as a KeyPlaceWatcher (the key sliced out for it). */
const byName = (watch: KeyWatcher): KeyPlaceWatcher => ({ keyAt: (text, start, end, valueStart, depth) => watch(text.slice(start, end), valueStart, depth) });

/** Compact JSON of jsonb text (see the file comment); undefined when it could differ from a parse + stringify. */
export function compactJsonbText(text: string, watch?: KeyWatcher | KeyPlaceWatcher): string | undefined {
  return compact(text, typeof watch === 'function' ? byName(watch) : watch);
}

// One pass: strings are skipped with indexOf; jsonb's `": ` after a key and `, ` are taken where they
// are met (the space cut out there, the key's value known without another look), any other whitespace
// by the general branch, so that any text gives what the plain character-by-character rule gives.
function compact(text: string, watch: KeyPlaceWatcher | undefined): string | undefined {
  const n = text.length;
  let out = '';
  let copied = 0;
  let i = 0;
  let depth = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      let next = end + 1;
      let after = text.charCodeAt(next);
      if (isSpace(after)) {
        while (next < n && isSpace(text.charCodeAt(next))) next++;
        after = text.charCodeAt(next);
      }
      if (after === COLON) {
        if (isDigit(text.charCodeAt(i + 1))) return undefined;
        let value = next + 1;
        let v = text.charCodeAt(value);
        if (next === end + 1 && isSpace(v)) {
          // `": `: the colon copied, the spaces after it cut, the loop goes on at the value.
          out += text.slice(copied, value);
          do value++;
          while (value < n && isSpace((v = text.charCodeAt(value))));
          copied = value;
          watch?.keyAt(text, i + 1, end, value < n ? v : NaN, depth);
          i = value;
          continue;
        }
        if (watch !== undefined) {
          while (value < n && isSpace(text.charCodeAt(value))) value++;
          watch.keyAt(text, i + 1, end, text.charCodeAt(value), depth);
        }
      }
      i = end + 1;
    } else if (c === COMMA) {
      i++;
      if (text.charCodeAt(i) === SPACE) {
        out += text.slice(copied, i);
        do i++;
        while (i < n && isSpace(text.charCodeAt(i)));
        copied = i;
      }
    } else if (isSpace(c)) {
      out += text.slice(copied, i);
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      copied = i;
    } else if (c === MINUS || isDigit(c)) {
      const start = c === MINUS ? i + 1 : i;
      let j = start;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      const digits = j - start;
      const after = text.charCodeAt(j);
      // '.', 'e', 'E': not an integer. More than 15 digits: maybe beyond exact doubles. "-0": JSON.stringify writes 0.
      if (after === 0x2e || after === 0x65 || after === 0x45 || digits === 0 || digits > 15) return undefined;
      if (c === MINUS && digits === 1 && text.charCodeAt(start) === ZERO) return undefined;
      i = j;
    } else {
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) depth--;
      i++;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}
