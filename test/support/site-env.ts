// The environment of a FHIR server (`dsf fhir`) or a whole site (`dsf site`) started as a child process on
// loopback with the test certificates: the part every such test sets alike. Tests add what they check.
import type { CertificateSet, OrganizationCertificates } from '../../src/cli/certs.ts';

export interface FhirServerEnvOptions {
  certs: CertificateSet;
  org: OrganizationCertificates;
  port: number;
  fhirDatabaseUrl: string;
}

/** A FHIR server on `https://localhost:<port>/fhir` of the organisation 'test-organization.test'. */
export function fhirServerEnv(o: FhirServerEnvOptions): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    DEV_DSF_FHIR_SERVER_BASE_URL: `https://localhost:${o.port}/fhir`,
    DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: 'test-organization.test',
    DEV_DSF_SERVER_API_PORT: String(o.port),
    DEV_DSF_SERVER_CERTIFICATE: o.org.server.certPath,
    DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: o.org.server.keyPath,
    DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: o.certs.ca.certPath,
    DEV_DSF_FHIR_CLIENT_CERTIFICATE: o.org.client.certPath,
    DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: o.org.client.keyPath,
    DEV_DSF_FHIR_DB_URL: o.fhirDatabaseUrl,
    // The parsed FHIR definitions, shared with the test run (start-up in well under a second).
    ...(process.env.DSF_DEFINITIONS_CACHE_DIR ? { DSF_DEFINITIONS_CACHE_DIR: process.env.DSF_DEFINITIONS_CACHE_DIR } : {}),
  };
}

/** A site: the FHIR server above and its BPE, with the plugins of `pluginDirectory`. */
export function siteEnv(o: FhirServerEnvOptions & { bpeDatabaseUrl: string; pluginDirectory: string }): Record<string, string> {
  return {
    ...fhirServerEnv(o),
    DEV_DSF_BPE_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: o.certs.ca.certPath,
    DEV_DSF_BPE_DB_URL: o.bpeDatabaseUrl,
    DEV_DSF_BPE_PROCESS_PLUGIN_DIRECTORY: o.pluginDirectory,
  };
}
