// NamingSystem: written with a name and a publication status; name and each uniqueId are unique, the
// name may not change, and it identifies the NamingSystem for conditional writes.
import type { NamingSystem } from '@medplum/fhirtypes';
import { taggedType } from './tagged-type.ts';
import { present, publicationStatus, unchanged } from './write-requirements.ts';

export const namingSystem = taggedType<NamingSystem>({
  type: 'NamingSystem',
  required: [publicationStatus('NamingSystem'), present('NamingSystem.name', (r) => r.name)],
  immutable: [unchanged('name', (r) => r.name)],
  uniqueKeys: (r) => [
    ...(typeof r.name === 'string' ? [`name:${r.name}`] : []),
    ...(r.uniqueId ?? []).filter((u) => typeof u?.value === 'string').map((u) => `uniqueId:${u.value}`),
  ],
  identityCriteria: (r) => (r.name ? new URLSearchParams({ name: r.name }).toString() : undefined),
});
