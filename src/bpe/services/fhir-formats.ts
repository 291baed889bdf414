// FHIR JSON and XML for plugins (api.fhirContext): the converters the BPE uses on the wire.
import type { Resource } from '@medplum/fhirtypes';
import type { FhirFormats } from '../../plugin-api/index.ts';
import { parseFhirJson } from '../../fhir/model/json-parse.ts';
import { parseFhirXml } from '../../fhir/model/xml-parse.ts';
import { toFhirXml } from '../../fhir/model/xml-write.ts';

export const fhirFormats: FhirFormats = Object.freeze({
  parse: <R extends Resource = Resource>(text: string) => (text.trimStart().startsWith('<') ? parseFhirXml(text) : parseFhirJson(text)) as R,
  parseJson: <R extends Resource = Resource>(json: string) => parseFhirJson(json) as R,
  parseXml: <R extends Resource = Resource>(xml: string) => parseFhirXml(xml) as R,
  toJson: (resource: Resource, pretty = false) => JSON.stringify(resource, null, pretty ? 2 : undefined),
  toXml: (resource: Resource) => toFhirXml(resource),
});
