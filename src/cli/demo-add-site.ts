// `dsf demo add-site`: onboarding a new organisation into a running demo network, the way a real network
// does it. Its certificates come from the demo CA; its FHIR server and BPE start knowing only themselves;
// the managing organisation registers it (Organization, Endpoint, affiliation under the parent) and runs
// updateAllowList; then every member and the new site run downloadAllowList with the published Bundle.
// Afterwards everyone knows everyone: the new site can be pinged and can ping. network.json gains the site.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { Task, TaskInput } from '@medplum/fhirtypes';
import { generateCertificates } from './certs.ts';
import { DEMO_USER_PKCS12_PASSWORD, demoBpeRoleConfig, demoRoleConfig, demoUsers } from './demo-users.ts';
import { allowListOrganizationOf, BPE_PORT_OFFSET, type NetworkFile, type NetworkSiteFile } from './demo-network.ts';
import { BPE_STATUS_PORT_OFFSET, FHIR_STATUS_PORT_OFFSET, startDemoBpe, startDemoFhirServer, type DemoSiteSpec } from './demo-site.ts';
import { defaultRolesOf, networkBundle, type NetworkSite } from './network-bundle.ts';
import { startProcess } from './start-process.ts';
import { HttpFhirClient } from '../bpe/client/http-fhir-client.ts';
import type { LogLevel } from '../bpe/services/logging.ts';
import { HttpsClient } from '../common/https-client.ts';

export const UPDATE_ALLOW_LIST_DRAFT = 'http://dsf.dev/bpe/Process/updateAllowList/1.0/task-update-allow-list';
export const DOWNLOAD_ALLOW_LIST_DRAFT = 'http://dsf.dev/bpe/Process/downloadAllowList/1.0/task-download-allow-list';
const ALLOW_LIST_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/allow-list';

export interface AddSiteOptions {
  /** The running demo's network.json. */
  network: string;
  organization: string;
  /** organization-role codes under the parent organisation (default DIC, TTP for names with TTP). */
  roles?: string[];
  /** FHIR port (default: one above the highest of the network); the BPE status endpoint is 1000 above. */
  port?: number;
  /** Longest wait for each process (default 120 s). */
  timeoutSeconds?: number;
  bpeConsoleLevel?: LogLevel;
  log: (line: string) => void;
}

export interface AddedSite {
  site: NetworkSiteFile;
  /** The allow list Bundle every site applied (versioned absolute URL). */
  allowList: string;
  /** Stops the new site's servers. */
  stop(): Promise<void>;
}

export async function addDemoSite(o: AddSiteOptions): Promise<AddedSite> {
  const network = JSON.parse(readFileSync(o.network, 'utf8')) as NetworkFile;
  const dir = dirname(o.network);
  const org = o.organization;
  const log = o.log;
  const timeoutSeconds = o.timeoutSeconds ?? 120;
  if (network.sites.some((s) => s.organization === org)) throw new Error(`${org} is already a site of ${o.network}`);
  if (!network.databaseUrl) throw new Error(`${o.network} names no database server (written by an older dsf demo: restart the demo)`);
  const managing = network.allowListOrganization ?? allowListOrganizationOf(network.sites.map((s) => ({ organizationIdentifier: s.organization, roles: s.roles })));
  if (!network.sites.some((s) => s.organization === managing)) throw new Error(`the allow list organisation ${managing} is no site of ${o.network}`);
  const step = (i: number, text: string) => log(`[${i}/5] ${text}`);

  step(1, `certificates for ${org} from the demo CA in ${join(dir, 'certs')}`);
  const users = demoUsers(org);
  const certs = await generateCertificates({ dir: join(dir, 'certs'), organizations: [org], users: users.map((u) => ({ name: u.name, email: u.email })), userPkcs12Password: DEMO_USER_PKCS12_PASSWORD });
  const ownCerts = certs.organizations[org]!;
  const port = o.port ?? Math.max(...network.sites.map((s) => Number(new URL(s.fhirBaseUrl).port))) + 1;
  const spec: DemoSiteSpec & NetworkSite = {
    key: org,
    organizationIdentifier: org,
    name: org.replaceAll('_', ' '),
    thumbprints: [ownCerts.client.thumbprint],
    fhirBaseUrl: `https://localhost:${port}/fhir`,
    roles: o.roles ?? defaultRolesOf(org),
    port,
    bpePort: port + BPE_PORT_OFFSET,
  };
  // The new site starts knowing itself (and its place under the parent); the allow list brings the rest.
  const initBundleFile = join(dir, `${org}-initial-bundle.json`);
  writeFileSync(initBundleFile, JSON.stringify(networkBundle([spec], network.parentOrganization), null, 2));
  const roleConfigFile = join(dir, `${org}-role-config.yaml`);
  const siteUsers = users.map((u) => ({ ...u, thumbprint: certs.users[u.name]!.thumbprint }));
  writeFileSync(roleConfigFile, demoRoleConfig(siteUsers));
  const bpeRoleConfigFile = join(dir, `${org}-bpe-role-config.yaml`);
  writeFileSync(bpeRoleConfigFile, demoBpeRoleConfig(siteUsers));

  step(2, `starting the FHIR server and BPE of ${org} on ${spec.fhirBaseUrl}`);
  const ctx = {
    dir,
    ca: certs.ca,
    certificates: ownCerts,
    databaseUrl: network.databaseUrl,
    databasePrefix: network.databasePrefix ?? '',
    initBundleFile,
    roleConfigFile,
    bpeRoleConfigFile,
    allowListOrganization: managing,
    bpeConsoleLevel: o.bpeConsoleLevel ?? 'warn',
    log,
  };
  const fhir = await startDemoFhirServer(spec, ctx);
  let running: Awaited<ReturnType<typeof startDemoBpe>> | undefined;
  const stop = async () => {
    await running?.status.close();
    await running?.bpe.stop();
    await fhir.close();
  };
  try {
    running = await startDemoBpe(spec, ctx);
    const site: NetworkSiteFile = {
      organization: org,
      fhirBaseUrl: spec.fhirBaseUrl,
      bpeBaseUrl: `https://localhost:${spec.bpePort}/bpe`,
      fhirStatusUrl: `http://127.0.0.1:${spec.port + FHIR_STATUS_PORT_OFFSET}`,
      bpeStatusUrl: `http://127.0.0.1:${spec.port + BPE_STATUS_PORT_OFFSET}`,
      roles: spec.roles,
      clientCert: ownCerts.client.certPath,
      clientKey: ownCerts.client.keyPath,
      serverCert: ownCerts.server.certPath,
      thumbprint: ownCerts.client.thumbprint,
      roleConfig: roleConfigFile,
      users: users.map((u) => {
        const c = certs.users[u.name]!;
        return { name: u.name, email: u.email, plays: u.plays, cert: c.certPath, key: c.keyPath, p12: c.p12Path };
      }),
    };

    step(3, `registering ${org} at ${managing} (Organization, Endpoint, ${spec.roles.join(', ')} in ${network.parentOrganization})`);
    const managingSite = network.sites.find((s) => s.organization === managing)!;
    await postAsSite(network, managingSite, networkBundle([spec], network.parentOrganization));

    step(4, `updateAllowList at ${managing}`);
    const quiet = () => {};
    const updated = await startProcess({ network: o.network, site: managing, draft: UPDATE_ALLOW_LIST_DRAFT, wait: true, timeoutSeconds }, quiet);
    const allowList = updated.output?.find((x) => x.type?.coding?.some((c) => c.system === ALLOW_LIST_SYSTEM && c.code === 'allow_list'))?.valueReference?.reference;
    if (updated.status !== 'completed' || !allowList) throw new Error(`updateAllowList at ${managing} ended ${updated.status}: ${outputsText(updated)}`);
    log(`      allow list ${allowList}`);

    // The new site is in network.json from here on: start-process reaches it like any other.
    const withNew: NetworkFile = { ...network, sites: [...network.sites, site] };
    writeFileSync(o.network, JSON.stringify(withNew, null, 2));
    const members = withNew.sites.filter((s) => s.organization !== managing);
    step(5, `downloadAllowList at ${members.map((s) => s.organization).join(', ')}`);
    const input: TaskInput = { type: { coding: [{ system: ALLOW_LIST_SYSTEM, code: 'allow_list' }] }, valueReference: { reference: allowList } };
    const downloads = await Promise.all(members.map((s) => startProcess({ network: o.network, site: s.organization, draft: DOWNLOAD_ALLOW_LIST_DRAFT, inputs: [input], wait: true, timeoutSeconds }, quiet)));
    const failed = downloads.map((t, i) => ({ t, site: members[i]!.organization })).filter(({ t }) => t.status !== 'completed');
    if (failed.length) throw new Error(`downloadAllowList failed at ${failed.map(({ t, site }) => `${site} (${outputsText(t)})`).join('; ')}`);
    log(`${org} joined: every site knows it, it knows every site (${o.network})`);
    return { site, allowList, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

function outputsText(task: Task): string {
  return (task.output ?? []).map((x) => x.valueString ?? x.valueReference?.reference ?? '').join('; ') || 'no outputs';
}

async function postAsSite(network: NetworkFile, site: NetworkSiteFile, bundle: object): Promise<void> {
  const http = new HttpsClient({ cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8'), ca: readFileSync(network.ca, 'utf8') });
  try {
    await new HttpFhirClient({ http, baseUrl: site.fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 60_000 }).postBundle(bundle as never);
  } finally {
    http.close();
  }
}

/** `dsf demo add-site`, a sub-command of the demo command. */
export function registerDemoAddSiteCommand(program: Command, onStop: (stop: () => Promise<void>) => void): void {
  const demo = program.commands.find((c) => c.name() === 'demo');
  if (!demo) throw new Error('the demo command must be registered first');
  demo
    .command('add-site')
    .description('add an organisation to the running demo: certificates, FHIR server and BPE, registration at the allow list organisation, updateAllowList there and downloadAllowList at every member; runs the new site until Ctrl+C')
    .requiredOption('--org <identifier>', 'organisation identifier of the new site, e.g. Test_DIC_3')
    .option('--network <file>', "the running demo's network description", process.env.DSF_DEMO_DIR ? `${process.env.DSF_DEMO_DIR}/network.json` : '.dsf/demo/network.json')
    .option('--role <code...>', 'organization-role codes under the parent organisation (default DIC, TTP for names with TTP)')
    .option('--port <port>', 'FHIR port (default one above the highest of the network; BPE status 1000 above)')
    .action(async (opts: { org: string; network: string; role?: string[]; port?: string }) => {
      const added = await addDemoSite({ network: opts.network, organization: opts.org, roles: opts.role, port: opts.port ? Number(opts.port) : undefined, log: (l) => console.log(l) });
      console.log(`Ping every other site from ${opts.org}:`);
      console.log(`  npx dsf start-process --network ${opts.network} --site ${opts.org} --draft http://dsf.dev/bpe/Process/ping/1.0/task-start-ping`);
      console.log('Press Ctrl+C to stop the new site.');
      onStop(added.stop);
    });
}
