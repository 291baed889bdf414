// updateAllowList, at the organisation that manages the allow list: every active Organization with an
// organization identifier, their Endpoints and the OrganizationAffiliations they take part in, as one
// transaction Bundle of conditional updates (on identifiers, so ids never leak between servers). The
// Bundle is stored (readable by all, identifier allow-list|allow_list) and referenced in the Task's output.
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Endpoint, Organization, OrganizationAffiliation, Reference, Resource } from '@medplum/fhirtypes';
import { ENDPOINT_IDENTIFIER_SID, ORGANIZATION_IDENTIFIER_SID, ServiceTask, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';
import { ALLOW_LIST_CODE, ALLOW_LIST_SYSTEM } from './constants.ts';

export class UpdateAllowList extends ServiceTask {
  async execute(api: ProcessPluginApi, variables: Variables): Promise<void> {
    const local = api.dsfClientProvider.getLocal();
    const organizations = await local.searchAll<Organization>('Organization', { active: 'true', identifier: `${ORGANIZATION_IDENTIFIER_SID}|` });
    const keyOf = referenceKeys(organizations);
    const organizationIds = new Set(organizations.map((o) => `Organization/${o.id}`));
    const endpointIds = new Set(organizations.flatMap((o) => (o.endpoint ?? []).map((e) => keyOf(e, 'Endpoint'))));
    const endpoints = (await local.searchAll<Endpoint>('Endpoint', { identifier: `${ENDPOINT_IDENTIFIER_SID}|` })).filter(
      (e) => endpointIds.has(`Endpoint/${e.id}`) || organizationIds.has(keyOf(e.managingOrganization, 'Organization')),
    );
    const listedEndpoints = new Set(endpoints.map((e) => `Endpoint/${e.id}`));
    const keys = referenceKeys([...organizations, ...endpoints]);
    // Affiliations of listed members whose parent and endpoint are listed too (an inactive parent leaves them out).
    const affiliations = (await local.searchAll<OrganizationAffiliation>('OrganizationAffiliation', {}))
      .filter(
        (a) =>
          organizationIds.has(keys(a.participatingOrganization, 'Organization')) && organizationIds.has(keys(a.organization, 'Organization')) && listedEndpoints.has(keys(a.endpoint?.[0], 'Endpoint')),
      )
      .map((a) => ({
        ...a,
        organization: { reference: keys(a.organization, 'Organization') },
        participatingOrganization: { reference: keys(a.participatingOrganization, 'Organization') },
        endpoint: [{ reference: keys(a.endpoint?.[0], 'Endpoint') }],
      }));
    const normalized = {
      organizations: organizations.map((o) => ({ ...o, endpoint: o.endpoint?.map((e) => ({ reference: keys(e, 'Endpoint') })) })),
      endpoints: endpoints.map((e) => (e.managingOrganization ? { ...e, managingOrganization: { reference: keys(e.managingOrganization, 'Organization') } } : e)),
    };

    const bundle = allowListBundle(normalized.organizations, normalized.endpoints, affiliations);
    api.readAccessHelper.addAll(bundle);
    api.dataLogger.log('Allow list transaction Bundle', bundle);
    const stored = await local.withMinimalReturn().updateConditional(bundle, { identifier: `${ALLOW_LIST_SYSTEM}|${ALLOW_LIST_CODE}` });
    api.logger.info(`Allow list Bundle/${stored.id}/_history/${stored.versionId ?? '?'}: ${organizations.length} organizations, ${endpoints.length} endpoints, ${affiliations.length} affiliations`);

    const task = variables.getStartTask();
    if (!task) throw new Error('no start task');
    const reference = `${api.endpointProvider.getLocalEndpointAddress()}/Bundle/${stored.id}${stored.versionId ? `/_history/${stored.versionId}` : ''}`;
    (task.output ??= []).push(api.taskHelper.createOutput({ valueReference: { reference } }, ALLOW_LIST_SYSTEM, ALLOW_LIST_CODE));
    variables.updateTask(task);
  }
}

/** The transaction: conditional PUTs, references between its entries as urn:uuid. */
export function allowListBundle(organizations: readonly Organization[], endpoints: readonly Endpoint[], affiliations: readonly OrganizationAffiliation[]): Bundle {
  const identifiers = new Map<string, string>();
  for (const o of organizations) identifiers.set(`Organization/${o.id}`, identifierOf(o, ORGANIZATION_IDENTIFIER_SID));
  for (const e of endpoints) identifiers.set(`Endpoint/${e.id}`, identifierOf(e, ENDPOINT_IDENTIFIER_SID));
  const temporary = new Map<string, string>();
  for (const r of [...organizations, ...endpoints, ...affiliations]) temporary.set(`${r.resourceType}/${r.id}`, `urn:uuid:${randomUUID()}`);
  const identifierOfReference = (reference: Reference | undefined): string => {
    const value = identifiers.get(reference?.reference ?? '');
    if (!value) throw new Error(`${reference?.reference ?? 'a missing reference'} is not part of the allow list`);
    return value;
  };
  // Plain temporary references, as the reference plugin writes them (an identifier beside a literal
  // reference would make servers hide the literal from readers, and ping's target selection needs it).
  const ref = <T extends Organization | Endpoint>(type: T['resourceType'], reference: Reference | undefined): Reference<T> => {
    const uuid = temporary.get(reference?.reference ?? '');
    if (!uuid) throw new Error(`${reference?.reference ?? 'a missing reference'} is not part of the allow list`);
    return { type, reference: uuid };
  };

  const entries: BundleEntry[] = [];
  for (const o of organizations) {
    const resource: Organization = { ...withoutServerMeta(o), endpoint: o.endpoint?.filter((e) => temporary.has(e.reference ?? '')).map((e) => ref<Endpoint>('Endpoint', e)) };
    if (!resource.endpoint?.length) delete resource.endpoint;
    entries.push(entry(temporary.get(`Organization/${o.id}`)!, resource, `Organization?identifier=${ORGANIZATION_IDENTIFIER_SID}|${identifiers.get(`Organization/${o.id}`)}`));
  }
  for (const e of endpoints) {
    const resource: Endpoint = { ...withoutServerMeta(e) };
    if (e.managingOrganization) resource.managingOrganization = ref<Organization>('Organization', e.managingOrganization);
    entries.push(entry(temporary.get(`Endpoint/${e.id}`)!, resource, `Endpoint?identifier=${ENDPOINT_IDENTIFIER_SID}|${identifiers.get(`Endpoint/${e.id}`)}`));
  }
  for (const a of affiliations) {
    if (!a.organization || !a.participatingOrganization || !a.endpoint?.length) throw new Error(`OrganizationAffiliation/${a.id} needs an organization, a participating organization and an endpoint`);
    const endpoint = a.endpoint[0];
    const resource: OrganizationAffiliation = {
      ...withoutServerMeta(a),
      organization: ref<Organization>('Organization', a.organization),
      participatingOrganization: ref<Organization>('Organization', a.participatingOrganization),
      endpoint: [ref<Endpoint>('Endpoint', endpoint)],
    };
    const criteria =
      `OrganizationAffiliation?primary-organization:identifier=${ORGANIZATION_IDENTIFIER_SID}|${identifierOfReference(a.organization)}` +
      `&participating-organization:identifier=${ORGANIZATION_IDENTIFIER_SID}|${identifierOfReference(a.participatingOrganization)}` +
      `&endpoint:identifier=${ENDPOINT_IDENTIFIER_SID}|${identifierOfReference(endpoint)}`;
    entries.push(entry(temporary.get(`OrganizationAffiliation/${a.id}`)!, resource, criteria));
  }
  return { resourceType: 'Bundle', type: 'transaction', identifier: { system: ALLOW_LIST_SYSTEM, value: ALLOW_LIST_CODE }, entry: entries };
}

/**
 * 'Type/id' of a reference as the server returns it (relative, absolute, versioned, or by identifier
 * only), for the resources given; '' when it names none of them.
 */
function referenceKeys(resources: readonly (Organization | Endpoint)[]): (reference: Reference | undefined, type: 'Organization' | 'Endpoint') => string {
  const byIdentifier = new Map<string, string>();
  for (const r of resources) for (const i of r.identifier ?? []) if (i.system && i.value) byIdentifier.set(`${r.resourceType}|${i.system}|${i.value}`, `${r.resourceType}/${r.id}`);
  return (reference, type) => {
    const literal = reference?.reference ? new RegExp(`(?:^|/)${type}/([A-Za-z0-9.-]{1,64})(?:/_history/[^/]+)?$`).exec(reference.reference) : null;
    if (literal) return `${type}/${literal[1]}`;
    const identifier = reference?.identifier;
    return (identifier?.system && identifier.value && byIdentifier.get(`${type}|${identifier.system}|${identifier.value}`)) || '';
  };
}

function identifierOf(resource: Organization | Endpoint, system: string): string {
  const value = resource.identifier?.find((i) => i.system === system)?.value;
  if (!value) throw new Error(`${resource.resourceType}/${resource.id} has no identifier of ${system}`);
  return value;
}

/** The resource without id, version and last-updated: the receiving server assigns its own. */
function withoutServerMeta<R extends Resource>(resource: R): R {
  const { id: _id, meta, ...rest } = resource;
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {};
  return (Object.keys(keptMeta).length ? { ...rest, meta: keptMeta } : rest) as R;
}

function entry(fullUrl: string, resource: Resource, url: string): BundleEntry {
  return { fullUrl, resource, request: { method: 'PUT', url } };
}
