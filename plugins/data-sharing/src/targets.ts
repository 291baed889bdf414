// Message targets by organisation identifier: the organisation's active Endpoint (the local one for the
// local organisation), with an optional correlation key.
import { createTarget, type ProcessPluginApi, type Target } from '../../../src/plugin-api/index.ts';

const ENDPOINT_SID = 'http://dsf.dev/sid/endpoint-identifier';

export async function targetOf(api: ProcessPluginApi, organizationIdentifier: string, correlationKey?: string): Promise<Target> {
  if ((await api.organizationProvider.getLocalOrganizationIdentifierValue()) === organizationIdentifier) {
    const local = await api.endpointProvider.getLocalEndpoint();
    const id = local?.identifier?.find((i) => i.system === ENDPOINT_SID)?.value;
    if (!local?.address || !id) throw new Error('no local endpoint');
    return createTarget(organizationIdentifier, id, local.address, correlationKey);
  }
  const organization = await api.organizationProvider.getOrganization(organizationIdentifier);
  const endpoint = (await api.endpointProvider.getRemoteEndpoints()).find((e) => e.status === 'active' && organization?.id && e.managingOrganization?.reference?.endsWith(`Organization/${organization.id}`));
  const id = endpoint?.identifier?.find((i) => i.system === ENDPOINT_SID)?.value;
  if (!organization || !endpoint?.address || !id) throw new Error(`no active endpoint of ${organizationIdentifier}`);
  return createTarget(organizationIdentifier, id, endpoint.address, correlationKey);
}

/** `org|correlationKey` inputs <-> pairs. */
export const expectedSiteText = (organization: string, correlationKey: string) => `${organization}|${correlationKey}`;
export function parseExpectedSite(text: string): { organization: string; correlationKey: string } {
  const [organization, correlationKey] = text.split('|');
  if (!organization || !correlationKey) throw new Error(`expected-site '${text}' is not organization|correlation-key`);
  return { organization, correlationKey };
}
