// A site's entry in a network file (what `dsf demo` writes and the CLI commands read) for tests that
// write one by hand: the site's FHIR URL and certificates, no roles, users or BPE URL.
import type { NetworkSiteFile } from '../../src/cli/demo-network.ts';

interface SiteCertificates {
  client: { certPath: string; keyPath: string; thumbprint: string };
  server: { certPath: string };
}

export function networkSiteEntry(site: { organization: string; fhirBaseUrl: string; fhirStatusUrl?: string; bpeStatusUrl?: string }, certs: SiteCertificates): NetworkSiteFile {
  return {
    organization: site.organization,
    fhirBaseUrl: site.fhirBaseUrl,
    bpeBaseUrl: '',
    fhirStatusUrl: site.fhirStatusUrl ?? '',
    bpeStatusUrl: site.bpeStatusUrl ?? '',
    roles: [],
    clientCert: certs.client.certPath,
    clientKey: certs.client.keyPath,
    serverCert: certs.server.certPath,
    thumbprint: certs.client.thumbprint,
    roleConfig: '',
    users: [],
  };
}
