// The plugin resources of the reference's Task tests, written for ours: a Task profile
// test-task|1.0, the process http://dsf.dev/bpe/Process/test|1.0 with message 'test-message', and the
// fourteen ActivityDefinitions the tests use, each differing only in who may request and receive.
import { coding } from '../auth/process-fixtures.ts';
import { EXTERNAL_ORG, LOCAL_ORG, ORG_ID, PARENT_ORG, PRACTITIONER_ID, tagAll } from './parity-site.ts';

export const TEST_TASK_PROFILE = 'http://dsf.dev/fhir/StructureDefinition/test-task';
export const TEST_PROCESS = 'http://dsf.dev/bpe/Process/test';
export const TEST_MESSAGE = 'test-message';
export const BPMN_MESSAGE = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';
export const TASK_IDENTIFIER = 'http://dsf.dev/sid/task-identifier';

export function testTaskProfile() {
  return {
    resourceType: 'StructureDefinition',
    meta: { tag: [tagAll()] },
    url: TEST_TASK_PROFILE,
    version: '1.0',
    name: 'TestTask',
    status: 'active',
    experimental: false,
    date: '2021-05-17',
    fhirVersion: '4.0.1',
    kind: 'resource',
    abstract: false,
    type: 'Task',
    baseDefinition: 'http://dsf.dev/fhir/StructureDefinition/task',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Task.instantiatesCanonical', path: 'Task.instantiatesCanonical', fixedCanonical: `${TEST_PROCESS}|1.0` },
        { id: 'Task.input:message-name', path: 'Task.input', sliceName: 'message-name' },
        { id: 'Task.input:message-name.value[x]', path: 'Task.input.value[x]', fixedString: TEST_MESSAGE },
      ],
    },
  };
}

/** Who may request and who may receive test-message, per ActivityDefinition of the reference's tests. */
const AUTHORIZATIONS: Record<number, { requesters: object[]; recipients: object[] }> = {
  1: { requesters: [coding.localAll()], recipients: [coding.localAll()] },
  2: { requesters: [coding.remoteAll()], recipients: [coding.localAll()] },
  3: { requesters: [coding.organization(false, EXTERNAL_ORG)], recipients: [coding.role(true, PARENT_ORG, 'DIC')] },
  4: { requesters: [coding.role(false, PARENT_ORG, 'DTS')], recipients: [coding.role(true, PARENT_ORG, 'COS')] },
  5: { requesters: [coding.localAllPractitioner('DIC_USER')], recipients: [coding.localAll()] },
  6: { requesters: [coding.localAllPractitioner('UAC_USER')], recipients: [coding.localAll()] },
  7: { requesters: [coding.organizationPractitioner(LOCAL_ORG, 'DIC_USER')], recipients: [coding.role(true, PARENT_ORG, 'DIC')] },
  8: { requesters: [coding.organizationPractitioner(LOCAL_ORG, 'COS_USER')], recipients: [coding.role(true, PARENT_ORG, 'COS')] },
  9: { requesters: [coding.rolePractitioner(PARENT_ORG, 'DIC', 'DIC_USER')], recipients: [coding.role(true, PARENT_ORG, 'COS')] },
  10: { requesters: [coding.rolePractitioner(PARENT_ORG, 'COS', 'COS_USER')], recipients: [coding.role(true, PARENT_ORG, 'COS')] },
  11: { requesters: [coding.organization(true, LOCAL_ORG)], recipients: [coding.localAll()] },
  12: { requesters: [coding.role(true, PARENT_ORG, 'DIC')], recipients: [coding.localAll()] },
  13: { requesters: [coding.localAllPractitioner('DIC_USER'), coding.localAll()], recipients: [coding.localAll()] },
  14: { requesters: [coding.localAll()], recipients: [coding.role(true, PARENT_ORG, 'TTP')] },
};

/** The reference's dsf-test-activity-definition<n>-1.0; `recipientRole` replaces the role of a LOCAL_ROLE recipient. */
export function testActivityDefinition(n: number, recipientRole?: string) {
  const auth = AUTHORIZATIONS[n];
  if (!auth) throw new Error(`no ActivityDefinition ${n}`);
  const recipients = recipientRole ? [coding.role(true, PARENT_ORG, recipientRole)] : auth.recipients;
  return {
    resourceType: 'ActivityDefinition',
    meta: { tag: [tagAll()] },
    extension: [
      {
        url: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization',
        extension: [
          { url: 'message-name', valueString: TEST_MESSAGE },
          { url: 'task-profile', valueCanonical: `${TEST_TASK_PROFILE}|1.0` },
          ...auth.requesters.map((c) => ({ url: 'requester', valueCoding: c })),
          ...recipients.map((c) => ({ url: 'recipient', valueCoding: c })),
        ],
      },
    ],
    url: TEST_PROCESS,
    version: '1.0',
    name: 'Test',
    status: 'active',
    date: '2025-10-29',
    kind: 'Task',
  };
}

/** The reference's dsf-test-task-1.0 with requester (organisation or practitioner) and recipient set. */
export function testTask(o: { requesterOrganization?: string; requesterPractitioner?: string; recipient: string; status?: string }): any {
  const requester = o.requesterOrganization
    ? { type: 'Organization', identifier: { system: ORG_ID, value: o.requesterOrganization } }
    : o.requesterPractitioner
      ? { type: 'Practitioner', identifier: { system: PRACTITIONER_ID, value: o.requesterPractitioner } }
      : undefined;
  return {
    resourceType: 'Task',
    meta: { profile: [TEST_TASK_PROFILE] },
    instantiatesCanonical: `${TEST_PROCESS}|1.0`,
    status: o.status ?? 'requested',
    intent: 'order',
    authoredOn: new Date().toISOString(),
    ...(requester ? { requester } : {}),
    restriction: { recipient: [{ type: 'Organization', identifier: { system: ORG_ID, value: o.recipient } }] },
    input: [messageInput(TEST_MESSAGE)],
  };
}

/** A Task.input as HAPI would send it: an empty code or string is left out. */
export const messageInput = (value: unknown, code = 'message-name', system = BPMN_MESSAGE) => ({
  type: { coding: [{ system, ...(code ? { code } : {}) }] },
  ...(typeof value === 'string' ? (value ? { valueString: value } : {}) : value === undefined ? {} : { valueCoding: value }),
});
