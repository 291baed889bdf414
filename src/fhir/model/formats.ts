// Content negotiation: the MIME types and _format values the DSF FHIR server accepts, mapped to the
// formats it writes.
export type FhirFormat = 'json' | 'xml' | 'html';

export const FHIR_JSON_MIME = 'application/fhir+json';
export const FHIR_XML_MIME = 'application/fhir+xml';
export const HTML_MIME = 'text/html';

/** Accepted request and response MIME types. */
export const XML_MIME_TYPES: readonly string[] = ['application/fhir+xml', 'application/xml+fhir', 'application/xml', 'text/xml'];
export const JSON_MIME_TYPES: readonly string[] = ['application/fhir+json', 'application/json+fhir', 'application/json'];

const MIME_FORMATS = new Map<string, FhirFormat>([
  ...XML_MIME_TYPES.map((m) => [m, 'xml'] as const),
  ...JSON_MIME_TYPES.map((m) => [m, 'json'] as const),
  [HTML_MIME, 'html'],
]);

/** The MIME type of a format's responses. */
export function mimeTypeOf(format: FhirFormat): string {
  return format === 'xml' ? FHIR_XML_MIME : format === 'json' ? FHIR_JSON_MIME : HTML_MIME;
}

/** 'application/fhir+json; charset=UTF-8' -> 'application/fhir+json'. */
function essence(mime: string): string {
  const semi = mime.indexOf(';');
  return (semi < 0 ? mime : mime.slice(0, semi)).trim().toLowerCase();
}

/** The format of a request body by its Content-Type; undefined for anything but FHIR XML / JSON. */
export function formatFromContentType(contentType: string | undefined): 'json' | 'xml' | undefined {
  if (!contentType) return undefined;
  const f = MIME_FORMATS.get(essence(contentType));
  return f === 'html' ? undefined : f;
}

/**
 * The format of a _format parameter value: 'xml', 'json', 'html' or a MIME type. A '+' decoded as a
 * space by form decoding ('application/fhir xml') is taken as '+'. Undefined for other values
 * (including 'inline', which concerns Binary content, not a FHIR format).
 */
export function formatFromFormatParam(value: string | undefined): FhirFormat | undefined {
  if (!value) return undefined;
  const v = essence(value).replace(/ /g, '+');
  if (v === 'xml' || v === 'json' || v === 'html') return v;
  return MIME_FORMATS.get(v);
}

/**
 * The response format: a recognised _format wins, otherwise the supported media range with the highest
 * q in Accept (earlier wins on ties). Wildcards (*\/*, application/*) and missing or unsupported values
 * give undefined, leaving the default to the caller.
 */
export function formatFromAccept(accept: string | undefined, formatParam?: string): FhirFormat | undefined {
  const fromParam = formatFromFormatParam(formatParam);
  if (fromParam) return fromParam;
  if (!accept) return undefined;
  let best: FhirFormat | undefined;
  let bestQ = 0;
  for (const range of accept.split(',')) {
    const [mime, ...params] = range.split(';');
    const format = MIME_FORMATS.get(mime!.trim().toLowerCase());
    if (!format) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (Number.isFinite(q) && q > bestQ) {
      best = format;
      bestQ = q;
    }
  }
  return best;
}
