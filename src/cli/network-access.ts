// How `dsf status` and `dsf task` reach a site: from a network description (the demo's network.json:
// base URLs, status URLs, certificate files), or from explicit options.
import { existsSync, readFileSync } from 'node:fs';
import { HttpFhirClient } from '../bpe/client/http-fhir-client.ts';
import { HttpsClient } from '../common/https-client.ts';
import type { NetworkFile, NetworkSiteFile } from './demo-network.ts';
import { UsageError } from './exit-codes.ts';

export const DEFAULT_NETWORK_FILE = process.env.DSF_DEMO_DIR ? `${process.env.DSF_DEMO_DIR}/network.json` : '.dsf/demo/network.json';

export function readNetwork(file: string): NetworkFile {
  if (!existsSync(file)) throw new UsageError(`no network description at ${file} (start \`dsf demo\` or give --network)`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as NetworkFile;
  } catch (e) {
    throw new UsageError(`${file} is not a network description: ${(e as Error).message}`);
  }
}

export function siteOf(network: NetworkFile, organization: string, file: string): NetworkSiteFile {
  const site = network.sites.find((s) => s.organization === organization);
  if (!site) throw new UsageError(`no site ${organization} in ${file} (${network.sites.map((s) => s.organization).join(', ')})`);
  return site;
}

/** A FHIR client of a site with its organisation's certificate; close() when done. */
export function siteClient(network: NetworkFile, site: NetworkSiteFile, baseUrl = site.fhirBaseUrl): { client: HttpFhirClient; close(): void } {
  const http = new HttpsClient({ cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8'), ca: readFileSync(network.ca, 'utf8') });
  return { client: new HttpFhirClient({ http, baseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 60_000 }), close: () => http.close() };
}
