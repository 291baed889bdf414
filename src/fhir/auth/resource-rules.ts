// The per-type write rules of the reference's authorization rules besides read-access tags, as data:
// what a resource must carry to be written (checked on create and update), and which of its identity
// keys an update may not change (the reference's modificationsOk). Refusals are 403, before validation.
// Task, QuestionnaireResponse and Subscription have rules files of their own.
import { parseReference } from '../search/reference.ts';
import { ENDPOINT_IDENTIFIER, ORGANIZATION_IDENTIFIER } from '../model/dsf-urls.ts';
import { canonicalJson } from './canonical-json.ts';

type Obj = Record<string, any>;

const ENDPOINT_ADDRESS = /^https:\/\/[0-9a-zA-Z.-]+(?::\d{1,4})?[-\w/]*$/;
const PUBLICATION_STATUS = ['draft', 'active', 'retired'];

const identifierValues = (r: Obj, system: string): string[] =>
  ((r.identifier ?? []) as Obj[]).filter((i) => i?.system === system && typeof i.value === 'string' && i.value !== '').map((i) => i.value as string);

type Requirement = (r: Obj) => string | undefined;

const present = (path: string, get: (r: Obj) => unknown): Requirement => (r) => (get(r) === undefined || get(r) === '' ? `${path} not defined` : undefined);
const publicationStatus = (type: string): Requirement => (r) =>
  r.status === undefined ? `${type}.status not defined` : PUBLICATION_STATUS.includes(r.status) ? undefined : `${type}.status not one of draft, active or retired`;
const canonical = (type: string): Requirement[] => [publicationStatus(type), present(`${type}.url`, (r) => r.url), present(`${type}.version`, (r) => r.version)];
const oneIdentifier = (type: string, system: string): Requirement => (r) =>
  identifierValues(r, system).length === 1 ? undefined : `${type}.identifier: exactly one with system ${system} and a value expected`;
const reference = (path: string, get: (r: Obj) => Obj | undefined): Requirement => (r) => (typeof get(r)?.reference === 'string' ? undefined : `${path}.reference missing`);

/** What a resource must carry to be written, per type. */
const REQUIRED: Record<string, Requirement[]> = {
  ActivityDefinition: canonical('ActivityDefinition'),
  CodeSystem: canonical('CodeSystem'),
  ValueSet: canonical('ValueSet'),
  StructureDefinition: [...canonical('StructureDefinition'), present('StructureDefinition.baseDefinition', (r) => r.baseDefinition)],
  NamingSystem: [publicationStatus('NamingSystem'), present('NamingSystem.name', (r) => r.name)],
  Organization: [oneIdentifier('Organization', ORGANIZATION_IDENTIFIER)],
  Endpoint: [
    oneIdentifier('Endpoint', ENDPOINT_IDENTIFIER),
    (r) => (typeof r.address !== 'string' ? 'Endpoint.address missing' : ENDPOINT_ADDRESS.test(r.address) ? undefined : `Endpoint.address not matching ${ENDPOINT_ADDRESS.source}`),
  ],
  OrganizationAffiliation: [
    reference('OrganizationAffiliation.organization', (r) => r.organization),
    reference('OrganizationAffiliation.participatingOrganization', (r) => r.participatingOrganization),
    (r) => (Array.isArray(r.endpoint) && r.endpoint.length === 1 ? reference('OrganizationAffiliation.endpoint', (x) => x.endpoint[0])(r) : 'OrganizationAffiliation.endpoint missing or more than one'),
    (r) =>
      !Array.isArray(r.code) || !r.code.length
        ? 'OrganizationAffiliation.code missing'
        : (r.code as Obj[]).some((c) => !Array.isArray(c?.coding) || !c.coding.length)
          ? 'OrganizationAffiliation.code without coding'
          : undefined,
  ],
};

/** Why the resource may not be written (empty: it may). */
export function requiredContentProblems(resource: Obj): string[] {
  return (REQUIRED[resource.resourceType] ?? []).map((check) => check(resource)).filter((p): p is string => p !== undefined);
}

/** The target of a reference in one comparable form: the local literal reference, and the identifier. */
function target(ref: Obj | undefined, baseUrl: string): { reference?: string; identifier?: string } {
  if (!ref) return {};
  const parsed = typeof ref.reference === 'string' ? parseReference(ref.reference, baseUrl) : undefined;
  return {
    reference: parsed?.local ? `${parsed.type}/${parsed.id}` : typeof ref.reference === 'string' ? ref.reference : undefined,
    identifier: ref.identifier ? canonicalJson({ system: ref.identifier.system, value: ref.identifier.value }) : undefined,
  };
}

/** Same target when a form both sides have agrees (a client may send back a reference without its resolved literal part). */
function sameTarget(a: Obj | undefined, b: Obj | undefined, baseUrl: string): boolean {
  const x = target(a, baseUrl);
  const y = target(b, baseUrl);
  if (x.reference && y.reference) return x.reference === y.reference;
  if (x.identifier && y.identifier) return x.identifier === y.identifier;
  return !x.reference && !x.identifier && !y.reference && !y.identifier;
}

type Immutable = { name: string; same: (previous: Obj, next: Obj, baseUrl: string) => boolean };
const field = (name: string, get: (r: Obj) => unknown): Immutable => ({ name, same: (a, b) => canonicalJson(get(a)) === canonicalJson(get(b)) });
const refField = (name: string, get: (r: Obj) => Obj | undefined): Immutable => ({ name, same: (a, b, base) => sameTarget(get(a), get(b), base) });
const urlAndVersion = [field('url', (r) => r.url), field('version', (r) => r.version)];

/** What an update may not change, per type. */
const IMMUTABLE: Record<string, Immutable[]> = {
  ActivityDefinition: urlAndVersion,
  CodeSystem: urlAndVersion,
  StructureDefinition: urlAndVersion,
  ValueSet: urlAndVersion,
  NamingSystem: [field('name', (r) => r.name)],
  Organization: [field(`identifier (${ORGANIZATION_IDENTIFIER})`, (r) => identifierValues(r, ORGANIZATION_IDENTIFIER)[0])],
  Endpoint: [field('address', (r) => r.address), field(`identifier (${ENDPOINT_IDENTIFIER})`, (r) => identifierValues(r, ENDPOINT_IDENTIFIER)[0])],
  OrganizationAffiliation: [
    refField('organization', (r) => r.organization),
    refField('participatingOrganization', (r) => r.participatingOrganization),
    refField('endpoint', (r) => r.endpoint?.[0]),
  ],
};

/** The identity keys an update changes that may not change. */
export function immutableFieldChanges(previous: Obj, next: Obj, baseUrl: string): string[] {
  return (IMMUTABLE[next.resourceType] ?? []).filter((f) => !f.same(previous, next, baseUrl)).map((f) => `${next.resourceType}.${f.name}`);
}
