// The media type registry the detection needs, with the facts of Tika 3.3's tika-mimetypes.xml
// and MediaTypeRegistry: aliases, declared super types, and the rules for unknown types.
export interface MediaType {
  type: string;
  subtype: string;
  /** With parameters, as declared (`text/csv; charset=utf-8`). */
  full: string;
}

export const OCTET_STREAM = 'application/octet-stream';
export const TEXT_PLAIN = 'text/plain';
export const APPLICATION_XML = 'application/xml';
export const APPLICATION_JSON = 'application/json';

/** Tika's aliases -> canonical names (the subset covering the common formats). */
const ALIASES: Record<string, string> = {
  'text/xml': 'application/xml',
  'application/x-xml': 'application/xml',
  'application/x-gzip': 'application/gzip',
  'application/x-gunzip': 'application/gzip',
  'application/gzipped': 'application/gzip',
  'application/gzip-compressed': 'application/gzip',
  'application/x-gzip-compressed': 'application/gzip',
  'gzip/document': 'application/gzip',
  'application/x-pdf': 'application/pdf',
  'application/x-zip-compressed': 'application/zip',
  'application/javascript': 'text/javascript',
  'application/x-javascript': 'text/javascript',
  'image/x-bmp': 'image/bmp',
  'image/x-ms-bmp': 'image/bmp',
  'application/x-rar': 'application/x-rar-compressed',
};

/** Declared super types (sub-class-of). */
const SUPERTYPES: Record<string, string> = {
  'text/plain': OCTET_STREAM,
  'application/xml': TEXT_PLAIN,
  'text/html': TEXT_PLAIN,
  'text/csv': TEXT_PLAIN,
  'text/javascript': TEXT_PLAIN,
  'application/json': 'text/javascript',
  'application/x-bzip2': 'application/x-bzip',
  'application/x-gtar': 'application/x-tar',
  'image/svg+xml': APPLICATION_XML,
  'application/xhtml+xml': APPLICATION_XML,
};

/** MediaType.parse: lower-cased type and subtype; undefined when not `type/subtype`. */
export function parseMediaType(value: string): MediaType | undefined {
  const match = /^\s*([A-Za-z0-9!#$&^_.+-]+)\/([A-Za-z0-9!#$&^_.+-]+)\s*(;.*)?$/.exec(value ?? '');
  if (!match) return undefined;
  const type = match[1]!.toLowerCase();
  const subtype = match[2]!.toLowerCase();
  const parameters = match[3]?.trim();
  return { type, subtype, full: parameters ? `${type}/${subtype}${parameters.replace(/\s*;\s*/g, '; ')}` : `${type}/${subtype}` };
}

export function normalize(name: string): string {
  return ALIASES[name] ?? name;
}

/**
 * MediaTypeRegistry.getSupertype. One deliberate difference: `+json` types (application/fhir+json)
 * count as JSON, as Tika counts `+xml` types as XML; Tika 3.3 does not, so the reference reports
 * valid FHIR JSON declared as application/fhir+json as text/plain.
 */
export function supertype(name: string): string | undefined {
  const [base, ...parameters] = name.split(';');
  if (parameters.length) return base!.trim();
  if (SUPERTYPES[name]) return SUPERTYPES[name];
  const [type, subtype] = name.split('/') as [string, string];
  if (subtype.endsWith('+xml')) return APPLICATION_XML;
  if (subtype.endsWith('+zip')) return 'application/zip';
  if (subtype.endsWith('+json')) return APPLICATION_JSON;
  if (type === 'text' && name !== TEXT_PLAIN) return TEXT_PLAIN;
  if (name !== OCTET_STREAM) return OCTET_STREAM;
  return undefined;
}

/** a equals b or a descends from b. */
export function isInstanceOf(a: string, b: string): boolean {
  for (let t: string | undefined = a; t; t = supertype(t)) if (t === b) return true;
  return false;
}

export function isSpecializationOf(a: string, b: string): boolean {
  const s = supertype(a);
  return s !== undefined && isInstanceOf(s, b);
}
