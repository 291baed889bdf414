// splitValues takes a plain split for values without escapes: the same values as the escape-aware
// walk over the characters, for values with and without backslashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitValues } from '../../../src/fhir/search/search-request.ts';

/** The rule spelt out: commas not escaped by a backslash separate; a backslash keeps the next character. */
function byCharacters(raw: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '\\' && i + 1 < raw.length) cur += raw[++i];
    else if (raw[i] === ',') {
      out.push(cur);
      cur = '';
    } else cur += raw[i];
  }
  out.push(cur);
  return out;
}

test('values with and without escapes split as the rule says', () => {
  const fixed = ['', ',', 'a', 'a,b', ',a,', 'http://x|1,http://y|2', 'a\\,b', 'a\\\\,b', 'a\\', '\\|x,y', 'a,,b'];
  for (const v of fixed) assert.deepEqual(splitValues(v), byCharacters(v), JSON.stringify(v));
  const alphabet = ['a', ',', '\\', '|', '$'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let n = 0; n < 2000; n++) {
    const v = Array.from({ length: next() % 9 }, () => alphabet[next() % alphabet.length]).join('');
    assert.deepEqual(splitValues(v), byCharacters(v), JSON.stringify(v));
  }
});
