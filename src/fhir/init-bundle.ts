// The initial bundle a FHIR server applies at start-up (DEV_DSF_FHIR_SERVER_INIT_BUNDLE): a
// transaction, XML or JSON, with ${...} placeholders resolved from the environment. Without a file,
// the default bundle holds the local Organization and its Endpoint.
import { readFileSync } from 'node:fs';
import type { Bundle, BundleEntry, Endpoint, Organization } from '@medplum/fhirtypes';
import { FhirError } from '../common/errors.ts';
import { parseFhirXml } from './model/xml-parse.ts';
import { parseFhirJson } from './model/json-parse.ts';

export const ORGANIZATION_IDENTIFIER = 'http://dsf.dev/sid/organization-identifier';
export const ENDPOINT_IDENTIFIER = 'http://dsf.dev/sid/endpoint-identifier';
export const THUMBPRINT_EXTENSION = 'http://dsf.dev/fhir/StructureDefinition/extension-certificate-thumbprint';
const READ_ACCESS_ALL = { system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'ALL' };

/**
 * Replaces ${name} and ${name:default}. A dotted property name (dev.dsf.fhir.server.base.url) is read
 * from the matching environment variable (DEV_DSF_FHIR_SERVER_BASE_URL). Unresolved names are an error.
 */
export function resolvePlaceholders(text: string, env: Record<string, string | undefined>): string {
  const missing = new Set<string>();
  const out = text.replace(/\$\{([A-Za-z0-9_.-]+)(?::([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
    const key = name.includes('.') ? name.toUpperCase().replace(/[.-]/g, '_') : name;
    const v = env[key] ?? env[name] ?? fallback;
    if (v === undefined) {
      missing.add(name);
      return '';
    }
    return v;
  });
  if (missing.size) throw new Error(`Initial bundle: no value for placeholder(s) ${[...missing].join(', ')}`);
  return out;
}

export function readInitBundle(path: string, env: Record<string, string | undefined>): Bundle {
  const text = resolvePlaceholders(readFileSync(path, 'utf8'), env);
  let bundle;
  try {
    bundle = text.trimStart().startsWith('<') ? parseFhirXml(text) : parseFhirJson(text);
  } catch (e) {
    throw new Error(`Initial bundle ${path}: ${e instanceof FhirError ? e.message : (e as Error).message}`);
  }
  if (bundle.resourceType !== 'Bundle' || (bundle.type !== 'transaction' && bundle.type !== 'batch')) {
    throw new Error(`Initial bundle ${path} must be a transaction or batch Bundle`);
  }
  return bundle as Bundle;
}

export interface SiteDescription {
  organizationIdentifier: string;
  name?: string;
  /** SHA-512 thumbprints (hex) of the organisation's client certificates. */
  thumbprints: string[];
  fhirBaseUrl: string;
  endpointIdentifier?: string;
}

/** Conditional PUTs of an Organization and its Endpoint, referring to each other through urn:uuids. */
export function siteEntries(site: SiteDescription, index = 0): BundleEntry[] {
  const orgUrn = `urn:uuid:00000000-0000-4000-8000-${String(2 * index + 1).padStart(12, '0')}`;
  const epUrn = `urn:uuid:00000000-0000-4000-8000-${String(2 * index + 2).padStart(12, '0')}`;
  const endpointIdentifier = site.endpointIdentifier ?? new URL(site.fhirBaseUrl).host;
  const organization: Organization = {
    resourceType: 'Organization',
    meta: { tag: [READ_ACCESS_ALL] },
    extension: site.thumbprints.map((t) => ({ url: THUMBPRINT_EXTENSION, valueString: t })),
    identifier: [{ system: ORGANIZATION_IDENTIFIER, value: site.organizationIdentifier }],
    active: true,
    name: site.name ?? site.organizationIdentifier,
    endpoint: [{ reference: epUrn }],
  };
  const endpoint: Endpoint = {
    resourceType: 'Endpoint',
    meta: { tag: [READ_ACCESS_ALL] },
    identifier: [{ system: ENDPOINT_IDENTIFIER, value: endpointIdentifier }],
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    name: `${site.name ?? site.organizationIdentifier} FHIR endpoint`,
    managingOrganization: { reference: orgUrn },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }] }],
    payloadMimeType: ['application/fhir+json', 'application/fhir+xml'],
    address: site.fhirBaseUrl,
  };
  return [
    { fullUrl: orgUrn, resource: organization, request: { method: 'PUT', url: `Organization?identifier=${ORGANIZATION_IDENTIFIER}|${site.organizationIdentifier}` } },
    { fullUrl: epUrn, resource: endpoint, request: { method: 'PUT', url: `Endpoint?identifier=${ENDPOINT_IDENTIFIER}|${endpointIdentifier}` } },
  ];
}

export function sitesBundle(sites: SiteDescription[]): Bundle {
  return { resourceType: 'Bundle', type: 'transaction', entry: sites.flatMap((s, i) => siteEntries(s, i)) };
}
