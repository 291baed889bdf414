// Update rules see the previous version as a reader does (literal parts resolved from identifiers are
// hidden). Comparing identity keys needs both forms of a reference: the service remembers, per previous
// version it hands to the rules, the version as stored, and the identity-key comparison asks for it.
import type { Resource } from '@medplum/fhirtypes';

const storedVersions = new WeakMap<object, Resource>();

/** Records that `readerView` was derived from `stored`. */
export function rememberStoredVersion<R extends Resource>(readerView: R, stored: R): R {
  if (readerView !== stored) storedVersions.set(readerView, stored);
  return readerView;
}

/** The version as stored of a reader's view, or the resource itself. */
export function storedVersionOf<R extends Resource>(resource: R): R {
  return (storedVersions.get(resource) as R | undefined) ?? resource;
}
