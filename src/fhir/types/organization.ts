// Organization: one organization-identifier, which may not change; identifier and the thumbprints of
// its client certificates are unique (a certificate's thumbprint finds its organisation, auth/identity-provider.ts).
// Its default profile is `organization`; parent organisations declare `organization-parent` instead.
import type { Organization } from '@medplum/fhirtypes';
import { ORGANIZATION_IDENTIFIER, THUMBPRINT_EXTENSION } from '../model/dsf-urls.ts';
import { identifierKeys } from './identifier-keys.ts';
import { taggedType } from './tagged-type.ts';
import { identifierValues, oneIdentifier, unchanged } from './write-requirements.ts';

/** The uniqueness key under which an Organization holds a client certificate's SHA-512 thumbprint (hex). */
export const thumbprintKey = (thumbprint: string) => `thumbprint:${thumbprint.toLowerCase()}`;

export const organization = taggedType<Organization>({
  type: 'Organization',
  required: [oneIdentifier('Organization', ORGANIZATION_IDENTIFIER)],
  immutable: [unchanged(`identifier (${ORGANIZATION_IDENTIFIER})`, (r) => identifierValues(r, ORGANIZATION_IDENTIFIER)[0])],
  uniqueKeys: (r) => [
    ...identifierKeys('identifier:', (r.identifier ?? []).filter((i) => i?.system === ORGANIZATION_IDENTIFIER)),
    ...(r.extension ?? []).filter((e) => e?.url === THUMBPRINT_EXTENSION && typeof e.valueString === 'string').map((e) => thumbprintKey(e.valueString!)),
  ],
  affectsIdentities: true,
});
