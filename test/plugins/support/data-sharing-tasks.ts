// What the data-sharing tests read from Tasks, and FHIR clients that present one organisation's
// certificate to another site of a test network (to check who may read what).
import { readFileSync } from 'node:fs';
import type { Task } from '@medplum/fhirtypes';
import type { TestNetwork } from '../../../src/testkit/index.ts';
import { HttpFhirClient } from '../../../src/bpe/client/http-fhir-client.ts';
import { HttpsClient } from '../../../src/common/https-client.ts';

export const DATA_SHARING = 'http://dsf-ts.dev/fhir/CodeSystem/data-sharing';
export const BPMN_MESSAGE = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';
export const SITE_STATUS = 'http://dsf-ts.dev/fhir/StructureDefinition/extension-data-sharing-site-status';

const hasCode = (system: string, code: string) => (p: { type?: { coding?: { system?: string; code?: string }[] } }) => p.type?.coding?.some((c) => c.system === system && c.code === code) ?? false;

export const inputOf = (task: Task, code: string, system = DATA_SHARING) => task.input?.find(hasCode(system, code));
export const outputOf = (task: Task, code: string, system = DATA_SHARING) => task.output?.filter(hasCode(system, code)) ?? [];
export const businessKeyOf = (task: Task) => inputOf(task, 'business-key', BPMN_MESSAGE)?.valueString;
export const messageOf = (task: Task) => inputOf(task, 'message-name', BPMN_MESSAGE)?.valueString;

/** Clients of the network's FHIR servers, each presenting a chosen organisation's client certificate. */
export class OrganizationClients {
  private readonly opened: HttpsClient[] = [];

  /** `network` is read when a client is made (the network starts in the test file's `before`). */
  constructor(private readonly network: () => TestNetwork) {}

  /** A client of `server`'s FHIR server presenting `as`'s organisation certificate. */
  as(as: string, server: string): HttpFhirClient {
    const certificates = this.network().certificates;
    const org = certificates.organizations[as]!;
    const http = new HttpsClient({ cert: readFileSync(org.client.certPath, 'utf8'), key: readFileSync(org.client.keyPath, 'utf8'), ca: readFileSync(certificates.ca.certPath, 'utf8') });
    this.opened.push(http);
    return new HttpFhirClient({ http, baseUrl: this.network().site(server).fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 60_000 });
  }

  close(): void {
    for (const c of this.opened.splice(0)) c.close();
  }
}
