// Endpoint: one endpoint-identifier and an https:// address, neither of which may change; address and
// identifiers are unique. A certificate's thumbprint on an Endpoint identifies its managing organisation.
import type { Endpoint } from '@medplum/fhirtypes';
import { ENDPOINT_IDENTIFIER } from '../model/dsf-urls.ts';
import { identifierKeys } from './identifier-keys.ts';
import { taggedType } from './tagged-type.ts';
import { identifierValues, oneIdentifier, unchanged } from './write-requirements.ts';

const ENDPOINT_ADDRESS = /^https:\/\/[0-9a-zA-Z.-]+(?::\d{1,4})?[-\w/]*$/;

export const endpoint = taggedType<Endpoint>({
  type: 'Endpoint',
  required: [
    oneIdentifier('Endpoint', ENDPOINT_IDENTIFIER),
    (r) => (typeof r.address !== 'string' ? 'Endpoint.address missing' : ENDPOINT_ADDRESS.test(r.address) ? undefined : `Endpoint.address not matching ${ENDPOINT_ADDRESS.source}`),
  ],
  immutable: [unchanged('address', (r) => r.address), unchanged(`identifier (${ENDPOINT_IDENTIFIER})`, (r) => identifierValues(r, ENDPOINT_IDENTIFIER)[0])],
  uniqueKeys: (r) => [...(typeof r.address === 'string' ? [`address:${r.address}`] : []), ...identifierKeys('identifier:', r.identifier)],
  affectsIdentities: true,
});
