// Lexical rules for FHIR primitive types as they appear in JSON. The regexes come from the R4
// definitions (the `regex` extension on each primitive's `value` element); a few known defects of
// the R4 published regexes are corrected here.
import { baseStructureDefinitions } from '../model/definitions.ts';

const REGEX_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/regex';

/**
 * Corrections to the published R4 regexes: markdown's `(\S|\s)*` backtracks badly on long texts and
 * xhtml has none. base64Binary is checked without a regex (R4's omits '/' and backtracks on large
 * data); numbers and booleans are checked by their JSON type.
 */
const OVERRIDES: Record<string, RegExp> = {
  markdown: /^[\s\S]+$/,
  xhtml: /^\s*<div[\s>][\s\S]*<\/div>\s*$/,
};

const NUMERIC = new Set(['integer', 'unsignedInt', 'positiveInt', 'decimal']);

let patterns: Map<string, RegExp> | undefined;

function loadPatterns(): Map<string, RegExp> {
  const map = new Map<string, RegExp>();
  for (const [name, sd] of baseStructureDefinitions()) {
    if (sd.kind !== 'primitive-type') continue;
    const valueElement = sd.snapshot?.element?.find((e) => e.path === `${name}.value`);
    const regex = valueElement?.type?.[0]?.extension?.find((x) => x.url === REGEX_EXTENSION)?.valueString;
    if (regex) map.set(name, new RegExp(`^(?:${regex})$`));
  }
  for (const [name, re] of Object.entries(OVERRIDES)) map.set(name, re);
  return map;
}

const primitiveNames = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer',
  'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'xhtml',
]);

export function isPrimitiveType(type: string): boolean {
  return primitiveNames.has(type);
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Why a JSON value is not a valid instance of the primitive type, or undefined if it is. */
export function primitiveProblem(type: string, value: unknown): string | undefined {
  if (type === 'boolean') return typeof value === 'boolean' ? undefined : `expected a JSON boolean for ${type}`;
  if (NUMERIC.has(type)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `expected a JSON number for ${type}`;
    if (type === 'decimal') return undefined;
    if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) return `'${value}' is not a valid ${type}`;
    if (type === 'unsignedInt' && value < 0) return `'${value}' is not a valid ${type}`;
    if (type === 'positiveInt' && value < 1) return `'${value}' is not a valid ${type}`;
    return undefined;
  }
  if (typeof value !== 'string') return `expected a JSON string for ${type}`;
  if (value.length === 0) return `empty string is not a valid ${type}`;
  if (type === 'base64Binary') return isBase64(value) ? undefined : `value is not valid ${type}`;
  patterns ??= loadPatterns();
  const re = patterns.get(type);
  if (re && !re.test(value)) return `'${value.length > 80 ? value.slice(0, 80) + '...' : value}' is not a valid ${type}`;
  return undefined;
}

function isBase64(value: string): boolean {
  const compact = value.replace(/\s+/g, '');
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
}
