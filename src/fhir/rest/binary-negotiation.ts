// What a read of a Binary answers, as the reference decides it: the Binary resource when _format asks
// for FHIR or the preferred Accept range is a FHIR media type (application/fhir+json, application/fhir+xml
// and their old forms json+fhir, xml+fhir); otherwise the raw content when some Accept range fits the
// Binary's contentType (no Accept fits everything), else 406. Plain application/json or application/xml
// therefore get the content of a Binary of that type, not the resource.
import { formatFromFormatParam, type FhirFormat } from '../model/formats.ts';

const FHIR_MEDIA_TYPES: ReadonlyMap<string, FhirFormat> = new Map([
  ['application/fhir+json', 'json'],
  ['application/json+fhir', 'json'],
  ['application/fhir+xml', 'xml'],
  ['application/xml+fhir', 'xml'],
]);

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [mime, ...params] = part.split(';').map((s) => s.trim());
    const [type, subtype] = (mime ?? '').toLowerCase().split('/');
    if (!type || !subtype) continue;
    const qParam = params.find((p) => /^q=/i.test(p));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    ranges.push({ type, subtype, q: Number.isFinite(q) ? q : 0 });
  }
  const specificity = (r: MediaRange) => (r.type === '*' ? 0 : r.subtype === '*' ? 1 : 2);
  // Most preferred first: by q, then the more specific range (stable otherwise).
  return ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q || specificity(b) - specificity(a));
}

export type BinaryAnswer = { kind: 'resource'; format: FhirFormat } | { kind: 'content' } | { kind: 'not-acceptable' };

export function binaryAnswer(accept: string | undefined, formatParam: string | undefined, contentType: string | undefined): BinaryAnswer {
  const fromParam = formatFromFormatParam(formatParam);
  if (fromParam) return { kind: 'resource', format: fromParam };
  if (!accept?.trim()) return { kind: 'content' };
  const ranges = parseAccept(accept);
  const preferred = ranges[0];
  const fhir = preferred && FHIR_MEDIA_TYPES.get(`${preferred.type}/${preferred.subtype}`);
  if (fhir) return { kind: 'resource', format: fhir };
  const [type, subtype] = (contentType ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase().split('/');
  const fits = ranges.some((r) => r.type === '*' || (r.type === type && (r.subtype === '*' || r.subtype === subtype)));
  return fits ? { kind: 'content' } : { kind: 'not-acceptable' };
}
