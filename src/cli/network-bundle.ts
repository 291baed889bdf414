// The initial bundle of a network of sites (demo and test kit): every site's Organization and Endpoint,
// and, as the reference's 3dic-ttp dev setup has it, one parent organisation whose OrganizationAffiliations
// give each member its roles (DIC for the data integration centres, TTP for the trusted third party).
// Every site applies the same bundle, so every site knows all the others.
import type { Bundle, BundleEntry, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import { ENDPOINT_IDENTIFIER, ORGANIZATION_IDENTIFIER, siteEntries, type SiteDescription } from '../fhir/init-bundle.ts';

export const ORGANIZATION_ROLE_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/organization-role';
const PARENT_PROFILE = 'http://dsf.dev/fhir/StructureDefinition/organization-parent';
const READ_ACCESS_ALL = { system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' };

export interface NetworkSite extends SiteDescription {
  /** organization-role codes the site has as member of the parent organisation. */
  roles: string[];
}

/** DIC for data integration centres, TTP for a trusted third party (by name, as the demo names them). */
export function defaultRolesOf(organizationIdentifier: string): string[] {
  if (/TTP/i.test(organizationIdentifier)) return ['TTP'];
  // The research platform (health research platform) that asks the DICs, e.g. Test_HRP; in the demo it
  // is also the data management site (DMS) that receives shared data.
  if (/HRP/i.test(organizationIdentifier)) return ['HRP', 'DMS'];
  return ['DIC'];
}

export function networkBundle(sites: NetworkSite[], parentIdentifier: string): Bundle {
  const perSite = sites.map((s, i) => siteEntries(s, i));
  const entries: BundleEntry[] = perSite.flat();
  const parentUrn = `urn:uuid:00000000-0000-4000-9000-000000000000`;
  const parent: Organization = {
    resourceType: 'Organization',
    meta: { profile: [PARENT_PROFILE], tag: [READ_ACCESS_ALL] },
    identifier: [{ system: ORGANIZATION_IDENTIFIER, value: parentIdentifier }],
    active: true,
    name: parentIdentifier.replaceAll('_', ' '),
  };
  entries.push({ fullUrl: parentUrn, resource: parent, request: { method: 'PUT', url: `Organization?identifier=${ORGANIZATION_IDENTIFIER}|${parentIdentifier}` } });
  sites.forEach((site, i) => {
    if (site.roles.length === 0) return;
    const [organization, endpoint] = perSite[i]!;
    const affiliation: OrganizationAffiliation = {
      resourceType: 'OrganizationAffiliation',
      meta: { tag: [READ_ACCESS_ALL] },
      active: true,
      // The identifiers beside the references let the conditional PUT below find the affiliation on a
      // later start: our server matches :identifier against the Reference's own identifier.
      organization: { reference: parentUrn, type: 'Organization', identifier: { system: ORGANIZATION_IDENTIFIER, value: parentIdentifier } },
      participatingOrganization: { reference: organization!.fullUrl, type: 'Organization', identifier: { system: ORGANIZATION_IDENTIFIER, value: site.organizationIdentifier } },
      code: site.roles.map((code) => ({ coding: [{ system: ORGANIZATION_ROLE_SYSTEM, code }] })),
      endpoint: [{ reference: endpoint!.fullUrl, type: 'Endpoint' }],
    };
    const criteria = `primary-organization:identifier=${ORGANIZATION_IDENTIFIER}|${parentIdentifier}&participating-organization:identifier=${ORGANIZATION_IDENTIFIER}|${site.organizationIdentifier}`;
    entries.push({ fullUrl: `urn:uuid:00000000-0000-4000-a000-${String(i + 1).padStart(12, '0')}`, resource: affiliation, request: { method: 'PUT', url: `OrganizationAffiliation?${criteria}` } });
  });
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

export { ENDPOINT_IDENTIFIER, ORGANIZATION_IDENTIFIER };
