// Characters FHIR text may not hold. FHIR strings exclude the control characters below U+0020 other
// than tab, line feed and carriage return; XML 1.0 cannot carry U+FFFE and U+FFFF; a lone UTF-16
// surrogate is no character at all. PostgreSQL refuses NUL and lone surrogates in jsonb, and a stored
// control character would break every XML page showing the resource, so input is checked once, here.

// Surrogate pairs are skipped as a whole; a surrogate matched alone is lone.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const FORBIDDEN_ALL = new RegExp(FORBIDDEN.source, 'g');

/** U+0007, or 'a lone surrogate U+D800'. */
function describe(ch: string): string {
  const code = ch.charCodeAt(0);
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code >= 0xd800 && code <= 0xdfff ? `a lone surrogate ${hex}` : `the character ${hex}`;
}

/** Why a text may not be FHIR content (naming the first bad character), or undefined when it may. */
export function forbiddenCharacter(text: string): string | undefined {
  const m = FORBIDDEN.exec(text);
  return m ? describe(m[0]) : undefined;
}

/** Whether a text holds a character FHIR text may not (forbiddenCharacter without naming it). */
export function hasForbiddenCharacter(text: string): boolean {
  return FORBIDDEN.test(text);
}

/**
 * Whether values parsed from this JSON text may hold a forbidden character. JSON.parse refuses raw
 * control characters in strings, so only an escape (\\u0007, a lone \\ud800) or a raw U+FFFE/U+FFFF
 * can put one there: a text with neither needs no check of each parsed key and string.
 */
export function jsonTextMayHoldForbidden(jsonText: string): boolean {
  return jsonText.includes('\\u') || FORBIDDEN.test(jsonText);
}

/** Replaces what XML cannot carry with U+FFFD, so that output never fails on stored data. */
export function replaceForbiddenCharacters(text: string): string {
  return FORBIDDEN.test(text) ? text.replace(FORBIDDEN_ALL, '\uFFFD') : text;
}

export const FORBIDDEN_CHARACTER_RULE = 'FHIR text must not contain control characters other than tab, line feed and carriage return, U+FFFE, U+FFFF or lone surrogates';
