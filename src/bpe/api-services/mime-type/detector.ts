// Tika's detection as the reference configures it (CombinedDetectors.withDefaultAndNdJson):
// magic numbers on the first 64 KiB, else "text or binary"; the declared type then replaces the
// result when it specialises it (that is how text/csv and application/json are "detected");
// an NDJSON detector runs beside it, and a specific result wins over text/plain.
import { APPLICATION_JSON, APPLICATION_XML, isSpecializationOf, normalize, OCTET_STREAM, parseMediaType, TEXT_PLAIN } from './media-types.ts';
import { htmlMagic, looksLikeText, magicTypes, xmlRoot } from './magic.ts';

export const PREFIX_LENGTH = 64 * 1024;
const NDJSON = 'application/x-ndjson';
const NDJSON_LINES = 3;

const XML_ROOTS: [string, string, string][] = [
  ['http://www.w3.org/2000/svg', 'svg', 'image/svg+xml'],
  ['http://www.w3.org/1999/xhtml', 'html', 'application/xhtml+xml'],
];

function hintName(declared: string | undefined): string | undefined {
  const parsed = declared === undefined ? undefined : parseMediaType(declared);
  if (!parsed) return undefined;
  const base = normalize(`${parsed.type}/${parsed.subtype}`);
  const parameters = parsed.full.slice(parsed.type.length + parsed.subtype.length + 1);
  return base + parameters;
}

function byMagic(prefix: Buffer): string[] {
  if (prefix.length === 0) return [OCTET_STREAM];
  const found = magicTypes(prefix).map((type) => {
    if (type !== APPLICATION_XML && type !== 'text/html') return type;
    const root = xmlRoot(prefix);
    if (root) return XML_ROOTS.find(([ns, local]) => ns === root[0] && local === root[1])?.[2] ?? type;
    if (type === APPLICATION_XML) return htmlMagic(prefix) ? 'text/html' : TEXT_PLAIN;
    return type;
  });
  return found.length ? found : [looksLikeText(prefix) ? TEXT_PLAIN : OCTET_STREAM];
}

/** Tika's MimeTypes.detect with a content-type hint. */
export function detectDefault(prefix: Buffer, declared?: string): string {
  let possible = byMagic(prefix);
  const hint = hintName(declared);
  if (hint && possible.some((type) => hint === type || isSpecializationOf(hint, type))) possible = [hint];
  return possible[0] ?? OCTET_STREAM;
}

/** The reference's NdJsonDetector: the first three lines each "detected" as JSON when the declared type is NDJSON. */
export function detectNdJson(prefix: Buffer, declared?: string): string {
  const hint = parseMediaType(declared ?? '')?.full === NDJSON ? APPLICATION_JSON : undefined;
  const text = prefix.toString('utf8');
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const checked = lines.slice(0, NDJSON_LINES);
  return checked.every((line) => detectDefault(Buffer.from(line, 'utf8'), hint) === APPLICATION_JSON) ? NDJSON : OCTET_STREAM;
}

const base = (type: string) => type.split(';')[0]!.trim();

export function detect(prefix: Buffer, declared: string): string {
  const results = [detectDefault(prefix, declared), detectNdJson(prefix, declared)].filter(
    (type) => base(type) !== OCTET_STREAM && base(type) !== 'application/x-empty',
  );
  return results.find((type) => base(type) !== TEXT_PLAIN) ?? results[0] ?? OCTET_STREAM;
}
