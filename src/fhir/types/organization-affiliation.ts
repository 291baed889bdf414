// OrganizationAffiliation: a member organisation's roles in a parent organisation (consortium), through
// one endpoint. Parent, member and endpoint may not change; each endpoint and each role is unique per
// parent and member. Memberships count at once for read access and process authorization.
import type { OrganizationAffiliation, Reference } from '@medplum/fhirtypes';
import { taggedType } from './tagged-type.ts';
import { literalReference, sameReferenceTarget } from './write-requirements.ts';

const refKey = (r: Reference | undefined): string | undefined => r?.reference ?? (r?.identifier ? `${r.identifier.system ?? ''}|${r.identifier.value ?? ''}` : undefined);

export const organizationAffiliation = taggedType<OrganizationAffiliation>({
  type: 'OrganizationAffiliation',
  required: [
    literalReference('OrganizationAffiliation.organization', (r) => r.organization),
    literalReference('OrganizationAffiliation.participatingOrganization', (r) => r.participatingOrganization),
    (r) =>
      Array.isArray(r.endpoint) && r.endpoint.length === 1
        ? literalReference<OrganizationAffiliation>('OrganizationAffiliation.endpoint', (x) => x.endpoint?.[0])(r)
        : 'OrganizationAffiliation.endpoint missing or more than one',
    (r) =>
      !Array.isArray(r.code) || !r.code.length
        ? 'OrganizationAffiliation.code missing'
        : r.code.some((c) => !Array.isArray(c?.coding) || !c.coding.length)
          ? 'OrganizationAffiliation.code without coding'
          : undefined,
  ],
  immutable: [
    sameReferenceTarget('organization', (r) => r.organization),
    sameReferenceTarget('participatingOrganization', (r) => r.participatingOrganization),
    sameReferenceTarget('endpoint', (r) => r.endpoint?.[0]),
  ],
  uniqueKeys: (r) => {
    const pair = `${refKey(r.organization) ?? ''}>${refKey(r.participatingOrganization) ?? ''}`;
    const endpoints = (r.endpoint ?? []).map((e) => `${pair}|endpoint:${refKey(e)}`);
    const roles = (r.code ?? []).flatMap((cc) => (cc.coding ?? []).map((c) => `${pair}|role:${c.system ?? ''}|${c.code ?? ''}`));
    return [...endpoints, ...roles];
  },
  affectsIdentities: true,
});
