// ActivityDefinitions with process-authorization, a plugin Task profile and Task builders for the
// Task authorization tests.
import { ORG_ID, tagAll } from './auth-support.ts';

export const PA = 'http://dsf.dev/fhir/CodeSystem/process-authorization';
export const BPMN = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';
export const TASK_PROFILE = 'http://dsf.dev/fhir/StructureDefinition/task-authz-test|1.0';
const SD = 'http://dsf.dev/fhir/StructureDefinition/';

export const taskProfile = () => ({
  resourceType: 'StructureDefinition',
  meta: tagAll(),
  url: TASK_PROFILE.split('|')[0],
  version: '1.0',
  name: 'TaskAuthzTest',
  date: '2024-01-01',
  status: 'active',
  kind: 'resource',
  abstract: false,
  type: 'Task',
  baseDefinition: 'http://dsf.dev/fhir/StructureDefinition/task',
  derivation: 'constraint',
  differential: { element: [{ id: 'Task.intent', path: 'Task.intent', fixedCode: 'order' }] },
});

export const coding = {
  localAll: () => ({ system: PA, code: 'LOCAL_ALL' }),
  remoteAll: () => ({ system: PA, code: 'REMOTE_ALL' }),
  localAllPractitioner: (role: string) => ({
    system: PA,
    code: 'LOCAL_ALL_PRACTITIONER',
    extension: [{ url: `${SD}extension-process-authorization-practitioner`, valueCoding: { system: 'http://dsf.dev/fhir/CodeSystem/practitioner-role', code: role } }],
  }),
  organization: (local: boolean, identifier: string) => ({
    system: PA,
    code: local ? 'LOCAL_ORGANIZATION' : 'REMOTE_ORGANIZATION',
    extension: [{ url: `${SD}extension-process-authorization-organization`, valueIdentifier: { system: ORG_ID, value: identifier } }],
  }),
  organizationPractitioner: (identifier: string, role: string) => ({
    system: PA,
    code: 'LOCAL_ORGANIZATION_PRACTITIONER',
    extension: [
      {
        url: `${SD}extension-process-authorization-organization-practitioner`,
        extension: [
          { url: 'organization', valueIdentifier: { system: ORG_ID, value: identifier } },
          { url: 'practitioner-role', valueCoding: { system: 'http://dsf.dev/fhir/CodeSystem/practitioner-role', code: role } },
        ],
      },
    ],
  }),
  role: (local: boolean, parent: string, role: string) => ({
    system: PA,
    code: local ? 'LOCAL_ROLE' : 'REMOTE_ROLE',
    extension: [
      {
        url: `${SD}extension-process-authorization-parent-organization-role`,
        extension: [
          { url: 'parent-organization', valueIdentifier: { system: ORG_ID, value: parent } },
          { url: 'organization-role', valueCoding: { system: 'http://dsf.dev/fhir/CodeSystem/organization-role', code: role } },
        ],
      },
    ],
  }),
  rolePractitioner: (parent: string, role: string, practitionerRole: string) => ({
    system: PA,
    code: 'LOCAL_ROLE_PRACTITIONER',
    extension: [
      {
        url: `${SD}extension-process-authorization-parent-organization-role-practitioner`,
        extension: [
          { url: 'parent-organization', valueIdentifier: { system: ORG_ID, value: parent } },
          { url: 'organization-role', valueCoding: { system: 'http://dsf.dev/fhir/CodeSystem/organization-role', code: role } },
          { url: 'practitioner-role', valueCoding: { system: 'http://dsf.dev/fhir/CodeSystem/practitioner-role', code: practitionerRole } },
        ],
      },
    ],
  }),
};

/** An ActivityDefinition for process http://dsf.dev/bpe/Process/<name>|1.0 authorizing message 'go'. */
export function activityDefinition(name: string, requesters: object[], recipients: object[]) {
  return {
    resourceType: 'ActivityDefinition',
    meta: tagAll(),
    url: `http://dsf.dev/bpe/Process/${name}`,
    version: '1.0',
    name,
    status: 'active',
    kind: 'Task',
    date: '2024-01-01',
    extension: [
      {
        url: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization',
        extension: [
          { url: 'message-name', valueString: 'go' },
          { url: 'task-profile', valueCanonical: TASK_PROFILE },
          ...requesters.map((c) => ({ url: 'requester', valueCoding: c })),
          ...recipients.map((c) => ({ url: 'recipient', valueCoding: c })),
        ],
      },
    ],
  };
}

export interface TaskOptions {
  process: string;
  status?: string;
  requester?: { system: string; value: string };
  recipient?: string;
  message?: string;
  identifier?: string;
  businessKey?: string;
  profile?: string;
}

export function task(o: TaskOptions): any {
  const input: object[] = [{ type: { coding: [{ system: BPMN, code: 'message-name' }] }, valueString: o.message ?? 'go' }];
  if (o.businessKey) input.push({ type: { coding: [{ system: BPMN, code: 'business-key' }] }, valueString: o.businessKey });
  return {
    resourceType: 'Task',
    meta: { profile: [o.profile ?? TASK_PROFILE] },
    ...(o.identifier ? { identifier: [{ system: 'http://dsf.dev/sid/task-identifier', value: o.identifier }] } : {}),
    instantiatesCanonical: `http://dsf.dev/bpe/Process/${o.process}|1.0`,
    status: o.status ?? 'requested',
    intent: 'order',
    authoredOn: '2024-05-01T10:00:00Z',
    // Typed logical references: the server resolves organisations by identifier and refuses untyped ones.
    requester: { type: o.requester?.system === ORG_ID ? 'Organization' : 'Practitioner', identifier: o.requester },
    restriction: { recipient: [{ type: 'Organization', identifier: { system: ORG_ID, value: o.recipient } }] },
    input,
  };
}
