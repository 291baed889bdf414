// Fixtures for the reference-check tests: a process (ActivityDefinition + Task profile) that both the
// local and remote organisations may start, Task builders with references in requester, recipient,
// inputs and outputs, and a look at what the database really stores (the reference tests read it
// through their DAOs).
import assert from 'node:assert/strict';
import { activityDefinition, BPMN, coding, TASK_PROFILE, taskProfile } from '../auth/process-fixtures.ts';
import type { FhirTestClient, TestSite } from '../../support/fhir-site.ts';

export { BPMN, TASK_PROFILE };
export const ORG_ID = 'http://dsf.dev/sid/organization-identifier';
export const PROCESS = 'refs';
export const TEST_CS = 'http://dsf.dev/fhir/CodeSystem/test';

/** The Task profile and an ActivityDefinition letting any local or remote organisation send 'go' to us. */
export async function createProcess(site: TestSite): Promise<void> {
  await site.client.create(taskProfile());
  await site.client.create(activityDefinition(PROCESS, [coding.localAll(), coding.remoteAll()], [coding.localAll()]));
}

export const orgRef = (value: string) => ({ type: 'Organization', identifier: { system: ORG_ID, value } });

export interface RefTaskOptions {
  requester: string;
  recipient: string;
  status?: string;
  inputs?: object[];
  outputs?: object[];
}

/** A Task of the test process; extra inputs come after message-name (the DSF profile's slicing is open at the end). */
export function refTask(o: RefTaskOptions): any {
  return {
    resourceType: 'Task',
    meta: { profile: [TASK_PROFILE] },
    instantiatesCanonical: `http://dsf.dev/bpe/Process/${PROCESS}|1.0`,
    status: o.status ?? 'requested',
    intent: 'order',
    authoredOn: '2024-05-01T10:00:00Z',
    requester: orgRef(o.requester),
    restriction: { recipient: [orgRef(o.recipient)] },
    input: [{ type: { coding: [{ system: BPMN, code: 'message-name' }] }, valueString: 'go' }, ...(o.inputs ?? [])],
    ...(o.outputs ? { output: o.outputs } : {}),
  };
}

/** A Task input or output carrying a Reference. */
export const referenceParameter = (code: string, valueReference: object) => ({ type: { coding: [{ system: TEST_CS, code }] }, valueReference });

/** The resource as stored (what the reference tests read through a DAO): literal references included. */
export async function stored(site: TestSite, id: string): Promise<any> {
  const r = await site.server.pool.query('SELECT resource FROM resources WHERE id = $1::uuid AND current', [id]);
  return r.rows[0]?.resource;
}

/** Number of current resources of a type, as the database has them (no read filter). */
export async function countStored(site: TestSite, type: string): Promise<number> {
  const r = await site.server.pool.query('SELECT count(*)::int AS n FROM resources WHERE type = $1 AND current AND NOT deleted', [type]);
  return r.rows[0].n;
}

/** Asserts a 403 whose OperationOutcome names the element and says why. */
export function assertRefused(r: { status: number; json: any; body: string }, location: string, why: RegExp): void {
  assert.equal(r.status, 403, r.body);
  const issue = r.json?.issue?.[0];
  assert.equal(issue?.code, 'processing', r.body);
  assert.match(issue?.diagnostics ?? '', why);
  assert.ok((issue?.diagnostics ?? '').includes(location), `the outcome names ${location}: ${issue?.diagnostics}`);
}

/** The id of the Organization with this DSF identifier. */
export async function organizationId(client: FhirTestClient, identifier: string): Promise<string> {
  const r = await client.get(`/Organization?identifier=${ORG_ID}|${identifier}`);
  const id = r.json?.entry?.[0]?.resource?.id;
  if (!id) throw new Error(`no Organization ${identifier}`);
  return id;
}
