// `dsf demo` (npm start): a network of DSF sites on loopback. One embedded PostgreSQL holds a
// database per site; a test CA and certificates are generated on first run; every site's initial
// bundle makes it know all the others (Organizations with thumbprints, Endpoints). Each site has three
// local users (demo-users.ts), recognised by certificate through its role configuration.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateCertificates } from './certs.ts';
import { startEmbeddedPostgres } from '../db/embedded.ts';
import { withDatabase } from '../db/pool.ts';
import { readFhirServerConfig } from '../fhir/config.ts';
import { startFhirServer, type RunningFhirServer } from '../fhir/fhir-server.ts';
import { sitesBundle, type SiteDescription } from '../fhir/init-bundle.ts';
import { DEMO_USER_PKCS12_PASSWORD, demoRoleConfig, demoUsers, type DemoUser } from './demo-users.ts';

export interface DemoOptions {
  dir: string;
  organizations: string[];
  basePort: number;
  /** postgres:// URL of an external server; default: embedded PostgreSQL under dir. */
  databaseUrl?: string;
  log: (line: string) => void;
}

export interface NetworkUser {
  name: string;
  email: string;
  /** What the user is (practitioner, DSF_ADMIN, minimal), as in the reference's integration tests. */
  plays: string;
  cert: string;
  key: string;
  /** PKCS#12 with key, certificate and CA; password in NetworkFile.userPkcs12Password. */
  p12?: string;
}

export interface NetworkFile {
  ca: string;
  userPkcs12Password: string;
  sites: { organization: string; fhirBaseUrl: string; clientCert: string; clientKey: string; serverCert: string; thumbprint: string; roleConfig: string; users: NetworkUser[] }[];
}

export interface RunningDemo {
  network: NetworkFile;
  networkFile: string;
  stop(): Promise<void>;
}

export const DEFAULT_DEMO_ORGANIZATIONS = ['Test_DIC_1', 'Test_DIC_2', 'Test_TTP'];

export async function startDemoNetwork(opts: DemoOptions): Promise<RunningDemo> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const log = opts.log;
  const n = opts.organizations.length;

  log(`[1/${n + 3}] certificates in ${join(dir, 'certs')}`);
  const users = new Map<string, DemoUser[]>(opts.organizations.map((org) => [org, demoUsers(org)]));
  const certs = await generateCertificates({
    dir: join(dir, 'certs'),
    organizations: opts.organizations,
    users: [...users.values()].flat().map((u) => ({ name: u.name, email: u.email })),
    userPkcs12Password: DEMO_USER_PKCS12_PASSWORD,
  });

  let serverUrl = opts.databaseUrl;
  let stopDb = async () => {};
  if (!serverUrl) {
    log(`[2/${n + 3}] starting embedded PostgreSQL in ${join(dir, 'postgres')}`);
    const db = await startEmbeddedPostgres(join(dir, 'postgres'), { log: (l) => log(`      ${l}`) });
    serverUrl = db.url;
    stopDb = db.stop;
  } else log(`[2/${n + 3}] using PostgreSQL at ${new URL(serverUrl).host}`);

  const sites: (SiteDescription & { key: string; port: number })[] = opts.organizations.map((org, i) => ({
    key: org,
    organizationIdentifier: org,
    name: org.replaceAll('_', ' '),
    thumbprints: [certs.organizations[org]!.client.thumbprint],
    fhirBaseUrl: `https://localhost:${opts.basePort + i}/fhir`,
    port: opts.basePort + i,
  }));
  const bundleFile = join(dir, 'network-bundle.json');
  writeFileSync(bundleFile, JSON.stringify(sitesBundle(sites), null, 2));
  // The reference's role configuration format (DEV_DSF_FHIR_SERVER_ROLECONFIG), one file per site.
  const roleConfigFile = (key: string) => join(dir, `${key}-role-config.yaml`);
  for (const site of sites) {
    const siteUsers = users.get(site.key)!.map((u) => ({ ...u, thumbprint: certs.users[u.name]!.thumbprint }));
    writeFileSync(roleConfigFile(site.key), demoRoleConfig(siteUsers));
  }

  const running: RunningFhirServer[] = [];
  try {
    for (const [i, site] of sites.entries()) {
      log(`[${i + 3}/${n + 3}] starting FHIR server of ${site.organizationIdentifier} on port ${site.port}`);
      const c = certs.organizations[site.key]!;
      const config = readFhirServerConfig({
        DEV_DSF_FHIR_SERVER_BASE_URL: site.fhirBaseUrl,
        DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE: site.organizationIdentifier,
        DEV_DSF_SERVER_API_HOST: '127.0.0.1',
        DEV_DSF_SERVER_API_PORT: String(site.port),
        DEV_DSF_SERVER_CERTIFICATE: c.server.certPath,
        DEV_DSF_SERVER_CERTIFICATE_PRIVATE_KEY: c.server.keyPath,
        DEV_DSF_SERVER_AUTH_TRUST_CLIENT_CERTIFICATE_CAS: certs.ca.certPath,
        DEV_DSF_FHIR_CLIENT_CERTIFICATE: c.client.certPath,
        DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: c.client.keyPath,
        DEV_DSF_FHIR_CLIENT_TRUST_SERVER_CERTIFICATE_CAS: certs.ca.certPath,
        DEV_DSF_FHIR_DB_URL: withDatabase(serverUrl, `fhir_${site.key.toLowerCase()}`),
        DEV_DSF_FHIR_SERVER_INIT_BUNDLE: bundleFile,
        DEV_DSF_FHIR_SERVER_ROLECONFIG: roleConfigFile(site.key),
        DSF_DATA_DIR: join(dir, site.key),
        // Three servers' request lines would bury the demo's own output; DSF_LOG_LEVEL=info shows them.
        DSF_LOG_LEVEL: process.env.DSF_LOG_LEVEL ?? 'warn',
      });
      running.push(await startFhirServer(config));
    }
  } catch (e) {
    await Promise.all(running.map((r) => r.close()));
    await stopDb();
    throw e;
  }

  const network: NetworkFile = {
    ca: certs.ca.certPath,
    userPkcs12Password: DEMO_USER_PKCS12_PASSWORD,
    sites: sites.map((s) => ({
      organization: s.organizationIdentifier,
      fhirBaseUrl: s.fhirBaseUrl,
      clientCert: certs.organizations[s.key]!.client.certPath,
      clientKey: certs.organizations[s.key]!.client.keyPath,
      serverCert: certs.organizations[s.key]!.server.certPath,
      thumbprint: certs.organizations[s.key]!.client.thumbprint,
      roleConfig: roleConfigFile(s.key),
      users: users.get(s.key)!.map((u) => {
        const c = certs.users[u.name]!;
        return { name: u.name, email: u.email, plays: u.plays, cert: c.certPath, key: c.keyPath, p12: c.p12Path };
      }),
    })),
  };
  const networkFile = join(dir, 'network.json');
  writeFileSync(networkFile, JSON.stringify(network, null, 2));
  log(`[${n + 3}/${n + 3}] network ready (${networkFile})`);
  for (const s of network.sites) {
    log(`  ${s.organization.padEnd(12)} ${s.fhirBaseUrl}`);
    for (const u of s.users) log(`    user ${u.name.padEnd(24)} ${u.plays} (${u.p12 ?? u.cert})`);
  }

  return {
    network,
    networkFile,
    async stop() {
      await Promise.all(running.map((r) => r.close()));
      await stopDb();
    },
  };
}
