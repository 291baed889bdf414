// FHIR JSON and XML for plugins (the reference hands plugins its HAPI FhirContext for parsing and
// encoding resources): the same converters the BPE uses on the wire.
import type { Resource } from '@medplum/fhirtypes';

export interface FhirFormats {
  /** A resource from FHIR JSON or XML text (XML when it starts with '<'). */
  parse<R extends Resource = Resource>(text: string): R;
  parseJson<R extends Resource = Resource>(json: string): R;
  parseXml<R extends Resource = Resource>(xml: string): R;
  toJson(resource: Resource, pretty?: boolean): string;
  toXml(resource: Resource): string;
}
