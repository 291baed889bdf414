// Canonical conformance resources DSF processes ship (ActivityDefinition, CodeSystem, StructureDefinition,
// ValueSet): written with url, version and a publication status, unique by url and version, which an
// update may not change. Other types with a url (Questionnaire, Library, Measure) are only identified by it.
import type { ActivityDefinition, CodeSystem, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import type { ResourceTypeBehaviour } from './behaviour.ts';
import { taggedType } from './tagged-type.ts';
import { present, publicationStatus, unchanged, type Requirement } from './write-requirements.ts';

type CanonicalResource = ActivityDefinition | CodeSystem | StructureDefinition | ValueSet;

const canonical = <T extends CanonicalResource>(type: T['resourceType'], extra: Requirement<T>[] = []): ResourceTypeBehaviour<T> =>
  taggedType<T>({
    type,
    required: [publicationStatus(type), present(`${type}.url`, (r) => r.url), present(`${type}.version`, (r) => r.version), ...extra],
    immutable: [unchanged('url', (r) => r.url), unchanged('version', (r) => r.version)],
    uniqueKeys: (r) => (typeof r.url === 'string' ? [`url:${r.url}|${r.version ?? ''}`] : []),
  });

export const canonicalResources: ResourceTypeBehaviour<Resource>[] = [
  canonical<ActivityDefinition>('ActivityDefinition'),
  canonical<CodeSystem>('CodeSystem'),
  canonical<StructureDefinition>('StructureDefinition', [present('StructureDefinition.baseDefinition', (r) => r.baseDefinition)]),
  canonical<ValueSet>('ValueSet'),
] as ResourceTypeBehaviour<Resource>[];
