// Which references of a resource the server checks and resolves: the elements the reference server's
// ReferenceExtractorImpl lists per type, plus Reference values of the resource's extensions (and of
// their nested extensions) and, for Task, of input/output values and their extensions. Nothing else:
// not contained resources, not modifierExtensions, not nested Questionnaire items, and for types not
// listed here only extensions. Binary has no extensions; a Bundle yields nothing.
import type { Resource } from '@medplum/fhirtypes';
import type { ReferenceElement, ResourceReference } from './resource-reference.ts';

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** [path below the type, element kind, allowed target types] */
type ElementLocation = readonly [string, ReferenceElement, (readonly string[])?];

const R = 'reference' as const;
const C = 'canonical' as const;
const ART = 'related-artifact' as const;
const ATT = 'attachment' as const;

const PERSONS = ['Device', 'Organization', 'Patient', 'Practitioner', 'PractitionerRole', 'RelatedPerson'];

const LOCATIONS: Readonly<Record<string, readonly ElementLocation[]>> = {
  ActivityDefinition: [
    ['subjectReference', R, ['Group']],
    ['location', R, ['Location']],
    ['productReference', R, ['Medication', 'Substance']],
    ['specimenRequirement', R, ['SpecimenDefinition']],
    ['observationRequirement', R, ['ObservationDefinition']],
    ['observationResultRequirement', R, ['ObservationDefinition']],
    ['relatedArtifact', ART],
  ],
  Binary: [['securityContext', R]],
  CodeSystem: [
    ['valueSet', C, ['ValueSet']],
    ['supplements', C, ['CodeSystem']],
  ],
  DocumentReference: [
    ['subject', R, ['Patient', 'Practitioner', 'Group', 'Device']],
    ['author', R, ['Practitioner', 'PractitionerRole', 'Organization', 'Device', 'Patient', 'RelatedPerson']],
    ['authenticator', R, ['Practitioner', 'PractitionerRole', 'Organization']],
    ['custodian', R, ['Organization']],
    ['relatesTo.target', R, ['DocumentReference']],
    ['context.encounter', R, ['Encounter', 'EpisodeOfCare']],
    ['context.sourcePatientInfo', R, ['Patient']],
    ['context.related', R],
    ['content.attachment', ATT],
  ],
  Endpoint: [['managingOrganization', R, ['Organization']]],
  Group: [
    ['managingEntity', R, ['Organization', 'RelatedPerson', 'Practitioner', 'PractitionerRole']],
    ['member.entity', R, ['Patient', 'Practitioner', 'PractitionerRole', 'Device', 'Medication', 'Substance', 'Group']],
  ],
  HealthcareService: [
    ['providedBy', R, ['Organization']],
    ['location', R, ['Location']],
    ['coverageArea', R, ['Location']],
    ['endpoint', R, ['Endpoint']],
  ],
  Library: [
    ['subjectReference', R, ['Group']],
    ['relatedArtifact', ART],
    ['content', ATT],
  ],
  Location: [
    ['managingOrganization', R, ['Organization']],
    ['partOf', R, ['Location']],
    ['endpoint', R, ['Endpoint']],
  ],
  Measure: [
    ['library', C, ['Library']],
    ['subjectReference', R, ['Group']],
    ['relatedArtifact', ART],
  ],
  MeasureReport: [
    ['measure', C, ['Measure']],
    ['subject', R, ['Patient', 'Practitioner', 'PractitionerRole', 'Location', 'Device', 'RelatedPerson', 'Group']],
    ['reporter', R, ['Practitioner', 'PractitionerRole', 'Location', 'Organization']],
    ['group.population.subjectResults', R, ['List']],
    ['group.stratifier.stratum.population.subjectResults', R, ['List']],
    ['evaluatedResource', R],
  ],
  NamingSystem: [],
  OperationOutcome: [],
  Organization: [
    ['partOf', R, ['Organization']],
    ['endpoint', R, ['Endpoint']],
  ],
  OrganizationAffiliation: [
    ['organization', R, ['Organization']],
    ['participatingOrganization', R, ['Organization']],
    ['network', R, ['Organization']],
    ['location', R, ['Location']],
    ['healthcareService', R, ['HealthcareService']],
    ['endpoint', R, ['Endpoint']],
  ],
  Patient: [
    ['contact.organization', R, ['Organization']],
    ['generalPractitioner', R, ['Organization', 'Practitioner', 'PractitionerRole']],
    ['managingOrganization', R, ['Organization']],
    ['link.other', R, ['Patient', 'RelatedPerson']],
  ],
  Practitioner: [['qualification.issuer', R, ['Organization']]],
  PractitionerRole: [
    ['practitioner', R, ['Practitioner']],
    ['organization', R, ['Organization']],
    ['location', R, ['Location']],
    ['healthcareService', R, ['HealthcareService']],
    ['endpoint', R, ['Endpoint']],
  ],
  Provenance: [
    ['target', R],
    ['location', R, ['Location']],
    ['agent.who', R, ['Practitioner', 'PractitionerRole', 'RelatedPerson', 'Patient', 'Device', 'Organization']],
    ['agent.onBehalfOf', R, ['Practitioner', 'PractitionerRole', 'RelatedPerson', 'Patient', 'Device', 'Organization']],
    ['entity.what', R],
  ],
  Questionnaire: [
    ['derivedFrom', C, ['Questionnaire']],
    ['item.enableWhen.answerReference', R],
    ['item.answerOption.valueReference', R],
    ['item.answerValueSet', C, ['ValueSet']],
    ['item.initial.valueReference', R],
  ],
  QuestionnaireResponse: [
    ['author', R, PERSONS],
    ['basedOn', R, ['CarePlan', 'ServiceRequest']],
    ['encounter', R, ['Encounter']],
    ['partOf', R, ['Observation', 'Procedure']],
    ['questionnaire', C, ['Questionnaire']],
    ['source', R, ['Patient', 'Practitioner', 'PractitionerRole', 'RelatedPerson']],
    ['subject', R],
  ],
  ResearchStudy: [
    ['protocol', R, ['PlanDefinition']],
    ['partOf', R, ['ResearchStudy']],
    ['enrollment', R, ['Group']],
    ['sponsor', R, ['Organization']],
    ['principalInvestigator', R, ['Practitioner', 'PractitionerRole']],
    ['site', R, ['Location']],
    ['relatedArtifact', ART],
  ],
  StructureDefinition: [['baseDefinition', C, ['StructureDefinition']]],
  Subscription: [],
  Task: [
    ['basedOn', R],
    ['encounter', R, ['Encounter']],
    ['focus', R],
    ['for', R],
    ['instantiatesCanonical', C, ['ActivityDefinition']],
    ['insurance', R, ['Coverage', 'ClaimResponse']],
    ['location', R, ['Location']],
    ['owner', R, ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'HealthcareService', 'Patient', 'Device', 'RelatedPerson']],
    ['partOf', R, ['Task']],
    ['reasonReference', R],
    ['relevantHistory', R, ['Provenance']],
    ['requester', R, PERSONS],
    ['restriction.recipient', R, ['Patient', 'Practitioner', 'PractitionerRole', 'RelatedPerson', 'Group', 'Organization']],
  ],
  ValueSet: [],
};

/** Types that are not DomainResources: no extensions are looked at. */
const NO_EXTENSIONS = new Set(['Binary', 'Bundle', 'Parameters']);

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** A location of LOCATIONS with its path split and its location text made, once per type. */
interface CompiledLocation {
  /** Properties leading to the holders of the element (empty: the resource holds it). */
  parents: readonly string[];
  last: string;
  location: string;
  element: ReferenceElement;
  targets: readonly string[];
}

const compiledLocations = new Map<string, readonly CompiledLocation[]>();

function locationsOf(type: string): readonly CompiledLocation[] {
  let compiled = compiledLocations.get(type);
  if (!compiled) {
    compiled = ((Object.hasOwn(LOCATIONS, type) ? LOCATIONS[type] : undefined) ?? []).map(([path, element, targets = []]) => {
      const parents = path.split('.');
      const last = parents.pop()!;
      return { parents, last, location: `${type}.${path}`, element, targets };
    });
    compiledLocations.set(type, compiled);
  }
  return compiled;
}

function locationReferences(resource: Obj, { parents, last, location, element, targets }: CompiledLocation, out: ResourceReference[]): void {
  // Most locations of a type are absent from a resource: nothing to walk, no lists made.
  if (resource[parents.length ? parents[0]! : last] === undefined) return;
  let holders: Obj[] = [resource];
  for (const s of parents) holders = holders.flatMap((h) => asList(h[s]).filter(isObj));
  for (const h of holders) {
    const v = h[last];
    if (element === 'canonical') {
      if (Array.isArray(v)) v.forEach((c, i) => typeof c === 'string' && out.push({ location, element, targets, holder: v as unknown as Obj, key: i }));
      else if (typeof v === 'string') out.push({ location, element, targets, holder: h, key: last });
    } else if (Array.isArray(v)) {
      for (const x of v) if (isObj(x)) out.push({ location, element, targets, holder: x });
    } else if (isObj(v)) {
      out.push({ location, element, targets, holder: v });
    }
  }
}

/** Reference values of the extensions of `holder`, then of their nested extensions, as the reference walks them. */
function extensionReferences(holder: Obj, base: string, out: ResourceReference[]): void {
  const extensions = asList(holder.extension).filter(isObj);
  const location = `${base}.extension`;
  for (const e of extensions) if (isObj(e.valueReference)) out.push({ location, element: 'reference', targets: [], holder: e.valueReference });
  for (const e of extensions) extensionReferences(e, location, out);
}

/** Parameter lists whose values may be references to any type (Task.input, Task.output). */
const PARAMETER_LISTS: Readonly<Record<string, readonly string[]>> = { Task: ['input', 'output'] };

/** A parameter list's Reference values (any target type) and the references in their extensions. */
function parameterReferences(resource: Obj, key: string, out: ResourceReference[]): void {
  const params = asList(resource[key]).filter(isObj);
  const location = `${resource.resourceType}.${key}`;
  for (const p of params) if (isObj(p.valueReference)) out.push({ location, element: 'reference', targets: [], holder: p.valueReference });
  for (const p of params) extensionReferences(p, location, out);
}

/** The references of a resource the server checks, in the reference's order (elements, parameter lists, extensions). */
export function extractReferences(resource: Resource): ResourceReference[] {
  const r = resource as Obj;
  const type = r.resourceType as string;
  const out: ResourceReference[] = [];
  for (const loc of locationsOf(type)) locationReferences(r, loc, out);
  for (const key of PARAMETER_LISTS[type] ?? []) parameterReferences(r, key, out);
  if (!NO_EXTENSIONS.has(type)) extensionReferences(r, type, out);
  return out;
}
