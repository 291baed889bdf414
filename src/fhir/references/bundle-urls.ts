// Inside batch and transaction bundles the url of a RelatedArtifact or Attachment may be a urn:uuid of
// another entry or a conditional reference (Type?identifier=...), like a Reference. Once resolved,
// the reference server writes such a url as an absolute URL of this server (a url is not a reference,
// so it carries the base).
import type { Resource } from '@medplum/fhirtypes';
import { extractReferences } from './reference-extractor.ts';
import { isConditional, referenceValue } from './resource-reference.ts';

const isUrlElement = (element: string) => element === 'related-artifact' || element === 'attachment';

/** Conditional urls of the resource's RelatedArtifacts and Attachments. */
export function conditionalUrls(resource: Resource): string[] {
  return extractReferences(resource)
    .filter((r) => isUrlElement(r.element))
    .map(referenceValue)
    .filter((v): v is string => v !== undefined && isConditional(v));
}

/** Replaces urn:uuid and conditional urls found in `mapping` (value -> Type/id) by absolute URLs; changes `resource`. */
export function rewriteBundleUrls(resource: Resource, mapping: ReadonlyMap<string, string>, baseUrl: string): void {
  for (const ref of extractReferences(resource)) {
    if (!isUrlElement(ref.element)) continue;
    const target = mapping.get(referenceValue(ref) ?? '');
    if (target) ref.holder.url = `${baseUrl}/${target}`;
  }
}
