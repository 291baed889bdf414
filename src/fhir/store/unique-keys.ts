// DSF's uniqueness rules as keys: no two current resources of a type may share a key. The keys live
// in unique_keys with a primary key, so the database enforces them also under concurrent writes.
type Obj = Record<string, any>;

const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
const THUMBPRINT_EXT = 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint';
const TASK_ID = 'http://dsf.dev/sid/task-identifier';

const identifierKeys = (prefix: string, ids: unknown): string[] =>
  (Array.isArray(ids) ? ids : [])
    .filter((i: Obj) => i && typeof i.value === 'string')
    .map((i: Obj) => `${prefix}${i.system ?? ''}|${i.value}`);

const refKey = (r: Obj | undefined): string | undefined =>
  r?.reference ?? (r?.identifier ? `${r.identifier.system ?? ''}|${r.identifier.value ?? ''}` : undefined);

const canonical = (r: Obj): string[] => (typeof r.url === 'string' ? [`url:${r.url}|${r.version ?? ''}`] : []);

const RULES: Record<string, (r: Obj) => string[]> = {
  ActivityDefinition: canonical,
  CodeSystem: canonical,
  StructureDefinition: canonical,
  ValueSet: canonical,
  Endpoint: (r) => [...(typeof r.address === 'string' ? [`address:${r.address}`] : []), ...identifierKeys('identifier:', r.identifier)],
  NamingSystem: (r) => [
    ...(typeof r.name === 'string' ? [`name:${r.name}`] : []),
    ...(Array.isArray(r.uniqueId) ? r.uniqueId.filter((u: Obj) => typeof u?.value === 'string').map((u: Obj) => `uniqueId:${u.value}`) : []),
  ],
  Organization: (r) => [
    ...identifierKeys('identifier:', (r.identifier ?? []).filter((i: Obj) => i?.system === ORG_ID)),
    ...(r.extension ?? [])
      .filter((e: Obj) => e?.url === THUMBPRINT_EXT && typeof e.valueString === 'string')
      .map((e: Obj) => `thumbprint:${e.valueString.toLowerCase()}`),
  ],
  OrganizationAffiliation: (r) => {
    const pair = `${refKey(r.organization) ?? ''}>${refKey(r.participatingOrganization) ?? ''}`;
    const endpoints = (r.endpoint ?? []).map((e: Obj) => `${pair}|endpoint:${refKey(e)}`);
    const roles = (r.code ?? []).flatMap((cc: Obj) => (cc.coding ?? []).map((c: Obj) => `${pair}|role:${c.system ?? ''}|${c.code ?? ''}`));
    return [...endpoints, ...roles];
  },
  Subscription: (r) => [`subscription:${r.criteria ?? ''}|${r.channel?.type ?? ''}|${r.channel?.payload ?? ''}`],
  Task: (r) => (r.status === 'draft' ? identifierKeys('identifier:', (r.identifier ?? []).filter((i: Obj) => i?.system === TASK_ID)) : []),
};

export function uniqueKeys(resource: Obj): string[] {
  const rule = RULES[resource.resourceType];
  return rule ? [...new Set(rule(resource))] : [];
}
