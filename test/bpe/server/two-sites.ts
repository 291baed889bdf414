// Two DSF sites on loopback, each a FHIR server with a BPE running the test plugin, knowing each other
// (Organization + Endpoint with the real base URL), plus a third organisation whose endpoint is a
// port nobody listens on.
import { dirname } from 'node:path';
import { startBpeServer, type RunningBpe } from '../../../src/bpe/bpe-server.ts';
import type { BpeConfig } from '../../../src/bpe/config.ts';
import type { FhirServerConfig } from '../../../src/fhir/config.ts';
import { freePort } from '../../../src/db/embedded.ts';
import { sitesBundle } from '../../../src/fhir/init-bundle.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSite, testOrganizationIdentifier, type TestSite } from '../../support/fhir-site.ts';
import { bpeConfig, recordingLogger } from './bpe-support.ts';
import { FIXTURE_PLUGIN } from './plugin-fixture.ts';

export interface DsfSite {
  fhir: TestSite;
  bpe: RunningBpe;
  db: TestDatabase;
  organization: string;
  identifier: string;
  logLines: string[];
}

export interface TwoSites {
  a: DsfSite;
  b: DsfSite;
  /** Identifier of the third organisation (known to A, endpoint unreachable). */
  unreachable: string;
  stop(): Promise<void>;
}

async function startBpe(fhir: TestSite, organization: string, overrides: Partial<BpeConfig> = {}): Promise<DsfSite> {
  const db = await createTestDatabase('dsf_bpe_site');
  const { logger, lines } = recordingLogger();
  const bpe = await startBpeServer(bpeConfig(fhir.certs, organization, fhir.baseUrl, { pluginDirectory: dirname(FIXTURE_PLUGIN), ...overrides }), {
    pool: db.pool,
    logger,
    jobPollIntervalMs: 50,
  });
  await bpe.connected();
  return { fhir, bpe, db, organization, identifier: testOrganizationIdentifier(organization), logLines: lines };
}

/** overrides: BPE settings of both sites (e.g. a status port); fhirConfig: FHIR server settings of both. */
export async function startTwoSites(overrides: Partial<BpeConfig> = {}, fhirConfig: Partial<FhirServerConfig> = {}): Promise<TwoSites> {
  const fhirA = await startTestSite({ organization: 'Test_Organization', config: fhirConfig });
  const fhirB = await startTestSite({ organization: 'External_Test_Organization', config: fhirConfig });
  const certs = fhirA.certs;
  const thumbprint = (org: string) => certs.organizations[org]!.client.thumbprint;
  const third = 'Third_Test_Organization';
  const site = (org: string, url: string) => ({ organizationIdentifier: testOrganizationIdentifier(org), thumbprints: [thumbprint(org)], fhirBaseUrl: url });
  const toA = await fhirA.client.post('', sitesBundle([site('External_Test_Organization', fhirB.baseUrl), site(third, `https://127.0.0.1:${await freePort()}/fhir`)]));
  const toB = await fhirB.client.post('', sitesBundle([site('Test_Organization', fhirA.baseUrl)]));
  if (toA.status !== 200 || toB.status !== 200) throw new Error(`site bundles failed: ${toA.body} ${toB.body}`);
  const a = await startBpe(fhirA, 'Test_Organization', overrides);
  const b = await startBpe(fhirB, 'External_Test_Organization', overrides);
  return {
    a,
    b,
    unreachable: testOrganizationIdentifier(third),
    async stop() {
      for (const s of [a, b]) {
        await s.bpe.stop();
        await s.db.drop();
        await s.fhir.stop();
      }
    },
  };
}
