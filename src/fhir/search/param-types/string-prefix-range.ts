// A string search's starts-with as a range of the index's order too. `s.norm LIKE $1` with the pattern
// a parameter (a prepared statement's generic plan, or a value from a coalesced batch) cannot bound the
// index scan: PostgreSQL reads every indexed string of the parameter and filters. The range
// [prefix, upper bound) in text_pattern_ops' order (bytes, so UTF-8's code point order) holds every
// string that starts with the prefix, and the index scans only those.

/** Code points of a string as PostgreSQL receives it: a lone surrogate is sent as U+FFFD. */
function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    out.push(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
  }
  return out;
}

/**
 * The least string above every string that starts with `prefix`, in code point order: the prefix with
 * its last code point raised by one (past the surrogates; a last U+10FFFF dropped and the one before
 * raised). Undefined when no string is above them all (an empty prefix, or U+10FFFF only).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = codePoints(prefix);
  while (cps.length) {
    let next = cps.pop()! + 1;
    if (next === 0xd800) next = 0xe000;
    if (next <= 0x10ffff) {
      cps.push(next);
      return cps.map((cp) => String.fromCodePoint(cp)).join('');
    }
  }
  return undefined;
}
