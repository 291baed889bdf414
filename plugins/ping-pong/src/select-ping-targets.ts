// Which endpoints to ping: the Endpoints found by the start Task's target-endpoints search (matches and
// includes), or every active Endpoint with an endpoint identifier; minus the local one and those whose
// managing organisation is not an active remote organisation. Each target gets its own correlation key.
import { randomUUID } from 'node:crypto';
import type { Bundle, Endpoint, Organization } from '@medplum/fhirtypes';
import { createTarget, createTargets, ENDPOINT_IDENTIFIER_SID, ORGANIZATION_IDENTIFIER_SID, ServiceTask, type ProcessPluginApi, type Target, type Variables } from '../../../src/plugin-api/index.ts';
import { PING_SYSTEM, PingCodes } from './constants.ts';

/** Resource types whose search may return (or include) Endpoints, as the reference allows. */
const SEARCHABLE_TYPES = /^(Endpoint|HealthcareService|ImagingStudy|InsurancePlan|Location|Organization|OrganizationAffiliation|PractitionerRole)$/;
const ALL_ENDPOINTS = `Endpoint?status=active&identifier=${ENDPOINT_IDENTIFIER_SID}|`;
/** A search that keeps announcing more results must still end. */
const MAX_PAGES = 1000;

export class SelectPingTargets extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const startTask = variables.getStartTask();
    const search = (startTask && api.taskHelper.getFirstInputParameterStringValue(startTask, PING_SYSTEM, PingCodes.targetEndpoints)) ?? ALL_ENDPOINTS;
    const localAddress = api.endpointProvider.getLocalEndpointAddress();
    const endpoints = (await searchEndpoints(api, search)).filter((e) => e.status === 'active' && e.address !== localAddress);
    const organizations = organizationIdentifiersById(await api.organizationProvider.getRemoteOrganizations());

    const targets: Target[] = [];
    for (const endpoint of endpoints) {
      const organization = organizations.get(referencedId(endpoint.managingOrganization?.reference) ?? '');
      const endpointIdentifier = endpoint.identifier?.find((i) => i.system === ENDPOINT_IDENTIFIER_SID)?.value;
      if (!organization || !endpointIdentifier || !endpoint.address) continue;
      targets.push(createTarget(organization, endpointIdentifier, endpoint.address, randomUUID()));
    }
    api.logger.debug(`Ping targets: ${targets.map((t) => `${t.organizationIdentifierValue}/${t.endpointIdentifierValue}`).join(', ') || 'none'}`);
    variables.setTargets(createTargets(targets));
  }
}

/** Runs the search page by page on the local FHIR server; Endpoints among matches and includes, each once. */
async function searchEndpoints(api: ProcessPluginApi, search: string): Promise<Endpoint[]> {
  const { type, params } = parseSearch(search);
  if (!type) {
    api.logger.warn(`target-endpoints '${search}' is no search on ${SEARCHABLE_TYPES.source}: no targets`);
    return [];
  }
  const byId = new Map<string, Endpoint>();
  let matches = 0;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const query = new URLSearchParams(params);
    query.set('_page', String(page));
    const bundle: Bundle = await api.dsfClientProvider.getLocal().search(type, query);
    const entries = bundle.entry ?? [];
    for (const e of entries) if (e.resource?.resourceType === 'Endpoint' && e.resource.id) byId.set(e.resource.id, e.resource);
    const pageMatches = entries.filter((e) => (e.search?.mode ?? 'match') === 'match').length;
    matches += pageMatches;
    if (pageMatches === 0 || bundle.total === undefined || matches >= bundle.total) break;
  }
  return [...byId.values()];
}

/** 'Endpoint?status=active&…' or an absolute URL ending in the type: the type (if allowed) and the parameters. */
export function parseSearch(search: string): { type: string | undefined; params: [string, string][] } {
  const trimmed = search.trim();
  const q = trimmed.indexOf('?');
  const path = q < 0 ? trimmed : trimmed.slice(0, q);
  const query = q < 0 ? '' : trimmed.slice(q + 1);
  const type = path.split('/').filter(Boolean).pop();
  const params: [string, string][] = [];
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    // Decoded without turning '+' into a space: FHIR search values such as time zones keep their '+'.
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    params.push(eq < 0 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))]);
  }
  return { type: type && SEARCHABLE_TYPES.test(type) ? type : undefined, params: params.filter(([name]) => name !== '_page') };
}

function organizationIdentifiersById(organizations: Organization[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of organizations) {
    const value = o.identifier?.find((i) => i.system === ORGANIZATION_IDENTIFIER_SID)?.value;
    if (o.id && value) out.set(o.id, value);
  }
  return out;
}

/** The id part of 'Organization/123', 'https://host/fhir/Organization/123/_history/2'. */
function referencedId(reference: string | undefined): string | undefined {
  const m = /(?:^|\/)Organization\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(reference ?? '');
  return m?.[1];
}
