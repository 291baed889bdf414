// The reference's TaskIntegrationTest, ported: every test method a remote site or a local user can
// trigger, over HTTPS with the reference's identities (parity-site.ts). Names follow the reference's
// test methods; where our answer differs, the test says why in one line.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EXTERNAL_ORG, expectForbidden, expectStatus, ids, LOCAL_ORG, MAIL, ORG_ID, PRACTITIONER_ID, startParitySite, tagAll, tagLocal, type ParitySite } from './parity-site.ts';
import { messageInput, TASK_IDENTIFIER, TEST_TASK_PROFILE, testActivityDefinition, testTask, testTaskProfile } from './parity-fixtures.ts';

let p: ParitySite;

async function storedTaskCount(): Promise<number> {
  return Number((await p.site.server.pool.query(`SELECT count(*) AS n FROM resources WHERE type = 'Task'`)).rows[0].n);
}

async function createActivityDefinition(n: number, recipientRole?: string): Promise<void> {
  expectStatus(await p.local.post('/ActivityDefinition', testActivityDefinition(n, recipientRole)), 201);
}

/** A create that must be refused with 403 and store nothing. */
async function expectCreateForbidden(client: ParitySite['local'], task: object, rule: RegExp): Promise<void> {
  const before = await storedTaskCount();
  expectForbidden(await client.post('/Task', task), rule);
  assert.equal(await storedTaskCount(), before, 'a refused create stores nothing');
}

async function expectCreated(client: ParitySite['local'], task: object): Promise<any> {
  const r = await client.post('/Task', task);
  expectStatus(r, 201);
  assert.ok(r.json.id);
  return r.json;
}

const localOrganizationReference = () => ({ reference: `Organization/${p.ids.localOrganization}` });

/** The reference's hand-built ping Task: a profile and process this server does not know. */
function pingTask(status: string | undefined, extra: object = {}): any {
  return {
    resourceType: 'Task',
    meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/task-start-ping-process'] },
    instantiatesCanonical: 'http://dsf.dev/bpe/Process/ping|0.3',
    ...(status ? { status } : {}),
    intent: 'order',
    authoredOn: new Date().toISOString(),
    requester: localOrganizationReference(),
    restriction: { recipient: [localOrganizationReference()] },
    input: [messageInput('startPingProcessMessage')],
    ...extra,
  };
}

const draftPingTask = (extra: object = {}) => pingTask('draft', { identifier: [{ system: TASK_IDENTIFIER, value: 'test' }], ...extra });
const ILLEGAL_CREATE_STATES = ['received', 'accepted', 'rejected', 'ready', 'cancelled', 'in-progress', 'on-hold', 'failed', 'completed', 'entered-in-error'];
const externalIdentifier = () => ({ type: 'Organization', identifier: { system: ORG_ID, value: EXTERNAL_ORG } });
const foreignLiteral = () => ({ reference: `http://foo.test/fhir/Organization/${randomUUID()}` });
const randomLiteral = () => ({ reference: `Organization/${randomUUID()}` });

/** The reference's invalid Task.input variants (none, foreign code, two message names, empty code or value, a Coding value). */
const invalidInputs = (message: string) => [
  undefined,
  [messageInput('value', 'code', 'system')],
  [messageInput(message), messageInput(message)],
  [messageInput(undefined)],
  [messageInput(message, '')],
  [messageInput('')],
  [messageInput({ system: 'system', code: 'code' })],
];

describe('TaskIntegrationTest', () => {
  before(async () => {
    p = await startParitySite();
    expectStatus(await p.local.post('/StructureDefinition', testTaskProfile()), 201);
  });
  after(() => p?.stop());
  afterEach(() => p.reset(['Task', 'ActivityDefinition', 'Binary']));

  it('testCreateForbiddenLocalUserIllegalStatus', async () => {
    // Authorization first: the unknown profile task-start-ping-process is never validated.
    for (const status of [undefined, ...ILLEGAL_CREATE_STATES]) await expectCreateForbidden(p.local, pingTask(status), /status must be draft or requested/);
  });

  it('testCreateForbiddenExternalUserIllegalStatus', async () => {
    for (const status of [undefined, ...ILLEGAL_CREATE_STATES]) {
      const t = pingTask(status, {
        meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/task-ping'] },
        instantiatesCanonical: 'http://dsf.dev/bpe/Process/pong/0.3.0',
        requester: externalIdentifier(),
        input: [messageInput('pingMessage')],
      });
      await expectCreateForbidden(p.external, t, /^Task create.*status must be draft or requested/);
    }
  });

  it('testCreateDarftTaskForbiddenLocalUserNotPartOfRequesterOrganization', async () => {
    for (const requester of [undefined, externalIdentifier(), foreignLiteral()]) {
      const t = draftPingTask();
      if (requester) t.requester = requester;
      else delete t.requester;
      await expectCreateForbidden(p.local, t, /requester/);
    }
  });

  it('testCreateDarftTaskForbiddenExternalUserOrNonAdminPractitioner', async () => {
    for (const client of [p.external, p.minimal, p.practitioner]) {
      await expectCreateForbidden(client, { resourceType: 'Task', status: 'draft' }, /draft/);
    }
  });

  it('testCreateTaskForbiddenExternalUserNotPartOfRequesterOrganization', async () => {
    await createActivityDefinition(2);
    const t = testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG });
    await expectCreateForbidden(p.external, t, /requester/);
    for (const requester of [undefined, foreignLiteral()]) {
      if (requester) t.requester = requester;
      else delete t.requester;
      await expectCreateForbidden(p.external, t, /requester/);
    }
  });

  it('testCreateDraftTaskForbiddenLocalUserRestrictionRecipientNotValidByLocalUser', async () => {
    const restrictions = [
      undefined,
      { extension: [{ url: 'test', valueString: 'x' }] },
      { recipient: [randomLiteral()] },
      { recipient: [externalIdentifier()] },
      { recipient: [foreignLiteral()] },
      { recipient: [externalIdentifier(), foreignLiteral()] },
      { recipient: [localOrganizationReference(), randomLiteral()] },
    ];
    for (const restriction of restrictions) {
      const t = draftPingTask({ restriction });
      if (!restriction) delete t.restriction;
      await expectCreateForbidden(p.local, t, /recipient/);
    }
  });

  it('testCreateForbiddenExternalUserRestrictionRecipientNotValid', async () => {
    await createActivityDefinition(2);
    const restrictions = [
      undefined,
      { extension: [{ url: 'test', valueString: 'x' }] },
      { recipient: [randomLiteral()] },
      { recipient: [externalIdentifier()] },
      { recipient: [foreignLiteral()] },
      { recipient: [externalIdentifier(), foreignLiteral()] },
    ];
    for (const restriction of restrictions) {
      const t = testTask({ requesterOrganization: EXTERNAL_ORG, recipient: EXTERNAL_ORG });
      if (restriction) t.restriction = restriction;
      else delete t.restriction;
      await expectCreateForbidden(p.external, t, /recipient/);
    }
  });

  it('testCreateForbiddenLocalUserInstantiatesUriNotValid', async () => {
    await createActivityDefinition(1);
    for (const canonical of [undefined, 'not-a-valid-pattern']) {
      const t = testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG });
      if (canonical) t.instantiatesCanonical = canonical;
      else delete t.instantiatesCanonical;
      await expectCreateForbidden(p.local, t, /instantiatesCanonical/);
    }
  });

  it('testCreateForbiddenExternalUserInstantiatesUriNotValid', async () => {
    await createActivityDefinition(2);
    for (const canonical of [undefined, 'not-a-valid-pattern']) {
      const t = testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG });
      if (canonical) t.instantiatesCanonical = canonical;
      else delete t.instantiatesCanonical;
      await expectCreateForbidden(p.external, t, /instantiatesCanonical/);
    }
  });

  it('testCreateForbiddenInputNotValidByLocalUser', async () => {
    for (const input of invalidInputs('startPingProcessMessage')) {
      const t = draftPingTask();
      if (input) t.input = input;
      else delete t.input;
      await expectCreateForbidden(p.local, t, /message-name/);
    }
  });

  it('testCreateForbiddenExternalUserInputNotValid', async () => {
    await createActivityDefinition(2);
    for (const input of invalidInputs('pingMessage')) {
      const t = testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG });
      if (input) t.input = input;
      else delete t.input;
      await expectCreateForbidden(p.external, t, /message-name/);
    }
  });

  it('testCreateForbiddenOutputNotValidByLocalUser', async () => {
    await expectCreateForbidden(p.local, draftPingTask({ output: [messageInput('value', 'code', 'system')] }), /output/);
  });

  it('testCreateForbiddenExternalUserOutputNotValid', async () => {
    await createActivityDefinition(2);
    const t = testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG });
    t.output = [messageInput('value', 'code', 'system')];
    await expectCreateForbidden(p.external, t, /output/);
  });

  it('testSearchTaskByRequesterId', async () => {
    const org = await p.storeDirectly({ resourceType: 'Organization', meta: { tag: [{ system: 'urn:test', code: 'Organization:test' }] }, name: 'Test Organization' } as any);
    const task = await p.storeDirectly({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      requester: { reference: `Organization/${org.id}` },
      restriction: { recipient: [localOrganizationReference()] },
    } as any);
    // The reference stores logical references with their literal part; the local organisation reads Tasks naming it either way.
    const r = await p.local.get(`/Task?requester=${org.id}`);
    expectStatus(r, 200);
    assert.equal(r.json.total, 1);
    assert.deepEqual(ids(r.json), [task.id]);
    await p.site.server.pool.query('DELETE FROM resources WHERE id = $1', [org.id]);
  });

  it('testCreateTaskAllowedLocalUser', async () => {
    await createActivityDefinition(1);
    await expectCreated(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskAllowedMinimalUser', async () => {
    expectForbidden(await p.minimal.post('/ActivityDefinition', testActivityDefinition(5)), /lacks the role CREATE/);
    await createActivityDefinition(5);
    expectForbidden(await p.minimal.post('/StructureDefinition', { ...testTaskProfile(), version: '9.9' }), /lacks the role CREATE/);
    await expectCreated(p.minimal, testTask({ requesterPractitioner: MAIL.minimal, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskAllowedLocalUserWithRole', async () => {
    await createActivityDefinition(5);
    await expectCreated(p.practitioner, testTask({ requesterPractitioner: MAIL.practitioner, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskNotAllowedLocalUserWrongRole', async () => {
    await createActivityDefinition(6);
    await expectCreateForbidden(p.practitioner, testTask({ requesterPractitioner: MAIL.practitioner, recipient: LOCAL_ORG }), /as requester/);
  });

  it('testCreateTaskAllowedLocalUserWithRole2', async () => {
    await createActivityDefinition(7);
    await expectCreated(p.practitioner, testTask({ requesterPractitioner: MAIL.practitioner, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskAllowedLocalUserWithAdminRole', async () => {
    await createActivityDefinition(7);
    await expectCreated(p.admin, testTask({ requesterPractitioner: MAIL.admin, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskNotAllowedLocalUserWithoutCosUserRole', async () => {
    await createActivityDefinition(8);
    await expectCreateForbidden(p.practitioner, testTask({ requesterPractitioner: MAIL.practitioner, recipient: LOCAL_ORG }), /as requester/);
  });

  it('testCreateTaskNotAllowedLocalOrganizationNotPractitionerWithCosUserRole', async () => {
    await createActivityDefinition(8);
    await expectCreateForbidden(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }), /as requester/);
  });

  it('testCreateTaskAllowedLocalUserWithDicUserRoleAndLocalOrganizationIsDic', async () => {
    await createActivityDefinition(9);
    await expectCreated(p.practitioner, testTask({ requesterPractitioner: MAIL.practitioner, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskNotAllowedLocalUserWithoutRole3', async () => {
    await createActivityDefinition(10);
    await expectCreateForbidden(p.practitioner, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }), /^Task create \(requested\): Task.requester must be the caller/);
  });

  it('testCreateTaskNotAllowedLocalOrganizationWithoutRole3', async () => {
    await createActivityDefinition(10);
    await expectCreateForbidden(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }), /as requester/);
  });

  it('testCreateTaskAllowedLocalUserVersionSpecificProfile', async () => {
    await createActivityDefinition(1);
    const t = testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG });
    t.meta.profile = [`${TEST_TASK_PROFILE}|1.0`];
    await expectCreated(p.local, t);
  });

  it('testCreateTaskAllowedLocalUserVersionSpecificProfileBadVersion', async () => {
    await createActivityDefinition(1);
    const t = testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG });
    t.meta.profile = [`${TEST_TASK_PROFILE}|0.x`];
    await expectCreateForbidden(p.local, t, /authorizes no message/);
  });

  it('testCreateTaskNotAllowedRemoteUser', async () => {
    await createActivityDefinition(1);
    await expectCreateForbidden(p.external, testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG }), /as requester/);
  });

  it('testCreateTaskNotAllowedPractitioner1', async () => {
    await createActivityDefinition(1);
    await expectCreateForbidden(p.practitioner, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }), /^Task create \(requested\): Task.requester must be the caller/);
  });

  it('testCreateTaskAllowedLocalUser11', async () => {
    await createActivityDefinition(11);
    await expectCreated(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskNotAllowedPractitioner11', async () => {
    await createActivityDefinition(11);
    await expectCreateForbidden(p.practitioner, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }), /^Task create \(requested\): Task.requester must be the caller/);
  });

  it('testCreateTaskAllowedLocalUser12', async () => {
    await createActivityDefinition(12);
    await expectCreated(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskNotAllowedPractitioner12', async () => {
    await createActivityDefinition(12);
    await expectCreateForbidden(p.practitioner, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }), /^Task create \(requested\): Task.requester must be the caller/);
  });

  it('testCreateTaskAllowedLocalUser13', async () => {
    await createActivityDefinition(13);
    await expectCreated(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskAllowedPractitioner13', async () => {
    await createActivityDefinition(13);
    await expectCreated(p.practitioner, testTask({ requesterPractitioner: MAIL.practitioner, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskNotAllowedLocalUser', async () => {
    await createActivityDefinition(2);
    await expectCreateForbidden(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }), /as requester/);
  });

  it('testCreateTaskAllowedRemoteUser', async () => {
    await createActivityDefinition(2);
    await expectCreated(p.external, testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskNotAllowedLocalUser2', async () => {
    await createActivityDefinition(3);
    await expectCreateForbidden(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }), /as requester/);
  });

  it('testCreateTaskAllowedRemoteUser2', async () => {
    await createActivityDefinition(3);
    await expectCreated(p.external, testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG }));
  });

  it('testCreateTaskNotAllowedRemoteUser2', async () => {
    await createActivityDefinition(3, 'TTP');
    await expectCreateForbidden(p.external, testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG }), /as recipient/);
  });

  it('testCreateTaskAllowedRemoteUser3', async () => {
    await createActivityDefinition(4);
    await expectCreated(p.external, testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG }));
  });

  it('testCreateViaBundleNotValid', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: { resourceType: 'Task', meta: { profile: ['http://dsf.dev/fhir/StructureDefinition/test-task'] } }, request: { method: 'POST', url: 'Task' } }],
    };
    const before = await storedTaskCount();
    expectForbidden(await p.local.post('', bundle), /status must be draft or requested/);
    assert.equal(await storedTaskCount(), before);
  });

  it('testDeletePermanentlyByLocalDeletionUser', async () => {
    const task = await p.storeDirectly({ ...testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG, status: 'draft' }), meta: { tag: [tagLocal()] } });
    await p.deleteDirectly('Task', task.id);
    expectStatus(await p.local.post(`/Task/${task.id}/$permanent-delete`, undefined), 200);
    assert.equal(await storedTaskCount(), 0);
  });

  it('testDeletePermanentlyByLocalDeletionUserNotMarkedAsDeleted', async () => {
    const task = await p.storeDirectly({ ...testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG, status: 'draft' }), meta: { tag: [tagLocal()] } });
    expectStatus(await p.local.post(`/Task/${task.id}/$permanent-delete`, undefined), 400, /not marked deleted/);
    assert.equal(await storedTaskCount(), 1);
  });

  it('testDeletePermanentlyByExternalUser', async () => {
    const task = await p.storeDirectly({ ...testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG }), meta: { tag: [tagLocal()] } });
    expectForbidden(await p.external.post(`/Task/${task.id}/$permanent-delete`, undefined), /PERMANENT_DELETE/);
  });

  it('testHistoryLiteralReferenceClean', async () => {
    await createActivityDefinition(1);
    const created = await expectCreated(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }));
    const stored = (await p.site.server.pool.query('SELECT resource FROM resources WHERE id = $1', [created.id])).rows[0].resource;
    assert.ok(stored.requester.reference, 'the stored Task has the resolved literal reference');
    const history = await p.local.get(`/Task/${created.id}/_history`);
    expectStatus(history, 200);
    assert.equal(history.json.total, 1);
    const fromHistory = history.json.entry[0].resource;
    assert.equal(fromHistory.requester.reference, undefined, 'the literal part is cleaned on output');
    assert.deepEqual(fromHistory.requester.identifier, { system: ORG_ID, value: LOCAL_ORG });
  });

  it('testDateTimeQueryParameter', async () => {
    for (const q of ['_lastUpdated=gt2021-12-02T10:00:00&_lastUpdated=lt2021-12-02T12:00:00', '_lastUpdated=lt2021-12-02T12:00:00&_lastUpdated=gt2021-12-02T10:00:00']) {
      const r = await p.local.get(`/Task?${q}`);
      expectStatus(r, 200);
      assert.equal(r.json.total, 0);
      assert.equal(r.json.entry, undefined);
    }
  });

  it('testSearchByProfile', async () => {
    const profile = 'http://foo.bar/fhir/StructureDefinition/baz';
    const task = (prof: string) => ({ resourceType: 'Task', meta: { profile: [prof] }, status: 'draft', intent: 'order', requester: localOrganizationReference(), restriction: { recipient: [{ ...localOrganizationReference(), identifier: { system: ORG_ID, value: LOCAL_ORG } }] } });
    await p.storeDirectly(task(profile) as any);
    const second = await p.storeDirectly(task(`${profile}|0.1.0`) as any);
    const total = async (q: string) => {
      const r = await p.local.get(`/Task?${q}`);
      expectStatus(r, 200);
      return r.json;
    };
    assert.equal((await total(`_profile=${profile}`)).total, 1);
    const versioned = await total(`_profile=${encodeURIComponent(`${profile}|0.1.0`)}`);
    assert.equal(versioned.total, 1);
    assert.deepEqual(versioned.entry[0].resource.meta.profile, [`${profile}|0.1.0`]);
    assert.equal(versioned.entry[0].resource.id, second.id);
    assert.equal((await total('_profile=http://foo.bar/fhir/StructureDefinition/test')).total, 0);
    assert.equal((await total(`_profile=${encodeURIComponent(`${profile}|0.2.0`)}`)).total, 0);
    assert.equal((await total('_profile:below=http://foo.bar/fhir/StructureDefinition')).total, 2);
    assert.equal((await total(`_profile:below=${encodeURIComponent('http://foo.bar/fhir/StructureDefinition|0.1.0')}`)).total, 0);
  });

  describe('Tasks with a Binary reference (test-task|1.7)', () => {
    const BINARY_PROFILE = 'http://dsf.dev/fhir/StructureDefinition/test-task';
    const externalBinary = 'https://external.test/fhir/Binary/941683ea-7670-4d1a-8e0d-75698c433204';
    let pluginResources: string[] = [];
    // test-task|1.7 would otherwise be the newest test-task the versionless profile of later tests resolves to.
    after(async () => {
      for (const path of pluginResources) expectStatus(await p.local.delete(path), 200);
    });

    async function createPluginResources(): Promise<void> {
      if (pluginResources.length) {
        await createActivityDefinition17();
        return;
      }
      const codeSystem = {
        resourceType: 'CodeSystem',
        meta: { tag: [tagAll()] },
        url: 'http://dsf.dev/fhir/CodeSystem/test',
        version: '1.7',
        name: 'DSF_Test',
        status: 'draft',
        experimental: false,
        date: '2025-03-21',
        caseSensitive: true,
        content: 'complete',
        concept: [{ code: 'binary-ref', display: 'Binary Reference' }],
      };
      const valueSet = {
        resourceType: 'ValueSet',
        meta: { tag: [tagAll()] },
        url: 'http://dsf.dev/fhir/ValueSet/test',
        version: '1.7',
        name: 'DSF_Test',
        status: 'draft',
        experimental: false,
        date: '2025-03-21',
        immutable: true,
        compose: { include: [{ system: 'http://dsf.dev/fhir/CodeSystem/test', version: '1.7' }] },
      };
      const profile = {
        ...testTaskProfile(),
        version: '1.7',
        differential: {
          element: [
            { id: 'Task.instantiatesCanonical', path: 'Task.instantiatesCanonical', fixedCanonical: 'http://dsf.dev/bpe/Process/test|1.7' },
            { id: 'Task.input', path: 'Task.input', min: 3 },
            { id: 'Task.input:message-name', path: 'Task.input', sliceName: 'message-name' },
            { id: 'Task.input:message-name.value[x]', path: 'Task.input.value[x]', fixedString: 'test-message' },
            { id: 'Task.input:binary-ref', path: 'Task.input', sliceName: 'binary-ref', min: 1, max: '1' },
            { id: 'Task.input:binary-ref.type', path: 'Task.input.type', binding: { strength: 'required', valueSet: 'http://dsf.dev/fhir/ValueSet/test|1.7' } },
            { id: 'Task.input:binary-ref.type.coding', path: 'Task.input.type.coding', min: 1, max: '1' },
            { id: 'Task.input:binary-ref.type.coding.system', path: 'Task.input.type.coding.system', min: 1, fixedUri: 'http://dsf.dev/fhir/CodeSystem/test' },
            { id: 'Task.input:binary-ref.type.coding.version', path: 'Task.input.type.coding.version', min: 1, fixedString: '1.7' },
            { id: 'Task.input:binary-ref.type.coding.code', path: 'Task.input.type.coding.code', min: 1, fixedCode: 'binary-ref' },
            { id: 'Task.input:binary-ref.value[x]', path: 'Task.input.value[x]', type: [{ code: 'Reference' }] },
            { id: 'Task.input:binary-ref.value[x].reference', path: 'Task.input.value[x].reference', min: 1 },
            { id: 'Task.input:binary-ref.value[x].identifier', path: 'Task.input.value[x].identifier', max: '0' },
          ],
        },
      };
      for (const [type, resource] of [['CodeSystem', codeSystem], ['ValueSet', valueSet], ['StructureDefinition', profile]] as const) {
        const r = await p.local.post(`/${type}`, resource);
        expectStatus(r, 201);
        pluginResources.push(`/${type}/${r.json.id}`);
      }
      await createActivityDefinition17();
    }

    async function createActivityDefinition17(): Promise<void> {
      const ad = testActivityDefinition(2);
      ad.version = '1.7';
      ad.extension[0]!.extension[1] = { url: 'task-profile', valueCanonical: `${BINARY_PROFILE}|1.7` };
      expectStatus(await p.local.post('/ActivityDefinition', ad), 201);
    }

    /** The reference's dsf-test-task-1.7 stored directly with the given status. */
    async function storedBinaryTask(status: string, withPluginResources: boolean): Promise<any> {
      if (withPluginResources) await createPluginResources();
      const t = testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG, status });
      t.meta.profile = [`${BINARY_PROFILE}|1.7`];
      t.instantiatesCanonical = 'http://dsf.dev/bpe/Process/test|1.7';
      t.input.push(messageInput('fdc8218e-ef55-4fc6-9c4f-a20883d569cc', 'business-key'));
      t.input.push({ type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/test', version: '1.7', code: 'binary-ref' }] }, valueReference: { reference: externalBinary } });
      return p.storeDirectly(t);
    }

    const asBundle = (task: any) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: `${p.site.baseUrl}/Task/${task.id}`, resource: task, request: { method: 'PUT', url: `Task/${task.id}` } }],
    });

    async function inProgressTask(): Promise<any> {
      await createActivityDefinition(1);
      const t = testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG, status: 'in-progress' });
      t.meta.profile = [`${TEST_TASK_PROFILE}|1.0`]; // the versionless profile would resolve to 1.7 here (one database for all tests)
      t.input.push(messageInput(randomUUID(), 'business-key'));
      return p.storeDirectly(t);
    }

    it('testUpdateTaskFromInProgressToCompletedWithNonExistingInputReferenceToExternalBinary', async () => {
      const task = await storedBinaryTask('in-progress', true);
      const r = await p.local.put(`/Task/${task.id}`, { ...task, status: 'completed' });
      expectStatus(r, 200);
      assert.equal(r.json.meta.versionId, '2');
    });

    it('testUpdateTaskFromInProgressToInProgressWithNonExistingInputReferenceToBinaryNotAllowed', async () => {
      const task = await inProgressTask();
      task.output = [{ type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/test', code: 'binary-ref', version: '1.7' }] }, valueReference: { reference: `Binary/${randomUUID()}` } }];
      expectForbidden(await p.local.put(`/Task/${task.id}`, task), /Reference target Binary\/.* of reference at Task.output .* not found/);
    });

    it('testUpdateTaskFromInProgressToInProgressWithExistingInputReferencesToBinaryAllowed', async () => {
      const binary = await p.local.post('/Binary', { resourceType: 'Binary', meta: { tag: [tagLocal()] }, contentType: 'text/plain', data: Buffer.from('DSF').toString('base64') });
      expectStatus(binary, 201);
      const task = await inProgressTask();
      task.output = [{ type: { coding: [{ system: 'http://dsf.dev/fhir/CodeSystem/test', code: 'binary-ref', version: '1.7' }] }, valueReference: { reference: `Binary/${binary.json.id}` } }];
      const first = await p.local.put(`/Task/${task.id}`, task);
      expectStatus(first, 200);
      const { output: _output, ...withoutOutput } = first.json;
      expectStatus(await p.local.put(`/Task/${task.id}`, withoutOutput), 200);
    });

    it('testUpdateTaskFromRequestedToInProgressWithNonExistingInputReferenceToExternalBinary', async () => {
      const task = await storedBinaryTask('requested', true);
      expectForbidden(await p.local.put(`/Task/${task.id}`, { ...task, status: 'in-progress' }), /of reference at Task.input .* could not be resolved on server/);
    });

    it('testUpdateTaskFromRequestedToFailedWithNonExistingInputReferenceToExternalBinary', async () => {
      const task = await storedBinaryTask('requested', true);
      expectStatus(await p.local.put(`/Task/${task.id}`, { ...task, status: 'failed' }), 200);
    });

    it('testUpdateTaskFromRequestedToFailedWithNonExistingInputReferenceToExternalBinaryAndNonExistingPluginValidationResource', async () => {
      const task = await storedBinaryTask('requested', false);
      expectStatus(await p.local.put(`/Task/${task.id}`, { ...task, status: 'failed' }), 200);
    });

    it('testUpdateTaskFromInProgressToCompletedWithNonExistingInputReferenceToExternalBinaryViaBundle', async () => {
      const task = await storedBinaryTask('in-progress', true);
      const r = await p.local.post('', asBundle({ ...task, status: 'completed' }));
      expectStatus(r, 200);
      assert.equal(r.json.type, 'transaction-response');
      assert.equal(r.json.entry.length, 1);
      assert.equal(r.json.entry[0].response.status, '200 OK');
      assert.equal(r.json.entry[0].resource.resourceType, 'Task');
    });

    it('testUpdateTaskFromRequestedToInProgressWithNonExistingInputReferenceToExternalBinaryViaBundle', async () => {
      const task = await storedBinaryTask('requested', true);
      expectForbidden(await p.local.post('', asBundle({ ...task, status: 'in-progress' })), /of reference at Task.input .* could not be resolved on server/);
    });

    for (const [name, withPluginResources] of [
      ['testUpdateTaskFromRequestedToFailedWithNonExistingInputReferenceToExternalBinaryViaBundle', true],
      ['testUpdateTaskFromRequestedToFailedWithNonExistingInputReferenceToExternalBinaryAndNonExistingPluginValidationResourceViaBundle', false],
    ] as const) {
      it(name, async () => {
        const task = await storedBinaryTask('requested', withPluginResources);
        const r = await p.local.post('', asBundle({ ...task, status: 'failed' }));
        expectStatus(r, 200);
        assert.equal(r.json.entry[0].response.status, '200 OK');
        assert.equal(r.json.entry[0].resource.status, 'failed');
      });
    }
  });

  const draftTestTask = () => ({ ...testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG, status: 'draft' }), identifier: [{ system: TASK_IDENTIFIER, value: 'test' }] });

  it('testCreateAllowViaDraftNotAllowedAsRequestedLocal', async () => {
    await createActivityDefinition(14);
    await expectCreated(p.local, draftTestTask());
    await expectCreateForbidden(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }), /as recipient/);
  });

  it('testCreateForbiddenDraftTaskExternalOrganization', async () => {
    await expectCreateForbidden(p.external, testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG, status: 'draft' }), /draft/);
  });

  it('testCreateForbiddenDraftTaskPractitionerIdentity', async () => {
    await expectCreateForbidden(p.practitioner, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG, status: 'draft' }), /draft/);
  });

  it('testUpdateRequestedToInProgressForbiddenForExternal', async () => {
    const task = await p.storeDirectly(testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }));
    expectForbidden(await p.external.put(`/Task/${task.id}`, { ...task, status: 'in-progress' }), /lacks the role UPDATE for Task/);
  });

  /** Reads and searches as `client`; `visible`: whether the Task is returned. */
  async function expectReadSearch(client: ParitySite['local'], taskId: string, visible: boolean): Promise<void> {
    const read = await client.get(`/Task/${taskId}`);
    if (visible) {
      expectStatus(read, 200);
      assert.equal(read.json.id, taskId);
    } else expectForbidden(read, /Not allowed to read/);
    const search = await client.get('/Task');
    expectStatus(search, 200);
    assert.equal(search.json.total, visible ? 1 : 0);
    assert.deepEqual(ids(search.json), visible ? [taskId] : []);
  }

  const draftCases: [string, () => ParitySite['local'], boolean][] = [
    ['testReadSearchLocalOrganizationDraftTask', () => p.local, true],
    ['testReadSearchExternalOrganizationDraftTask', () => p.external, false],
    ['testReadSearchPractitionerDsfAdminDraftTask', () => p.admin, true],
    ['testReadSearchPractitionerDicUserDraftTask', () => p.practitioner, true],
    ['testReadSearchPractitionerDicUserMinimalDraftTask', () => p.minimal, true],
  ];
  for (const [name, client, visible] of draftCases) {
    it(name, async () => {
      await createActivityDefinition(14);
      const created = await expectCreated(p.local, draftTestTask());
      await expectReadSearch(client(), created.id, visible);
    });
  }

  const requesterCases: [string, number, () => ParitySite['local'], object][] = [
    ['testReadSearchLocalOrganizationUserIsRequester', 1, () => p.local, { requesterOrganization: LOCAL_ORG }],
    ['testReadSearchExternalOrganizationUserIsRequester', 2, () => p.external, { requesterOrganization: EXTERNAL_ORG }],
    ['testReadSearchPractitionerDsfAdminUserIsRequester', 1, () => p.admin, { requesterPractitioner: MAIL.admin }],
    ['testReadSearchPractitionerDicUserUserIsRequester', 5, () => p.practitioner, { requesterPractitioner: MAIL.practitioner }],
    ['testReadSearchPractitionerDicUserMinimalUserIsRequester', 5, () => p.minimal, { requesterPractitioner: MAIL.minimal }],
  ];
  for (const [name, ad, client, requester] of requesterCases) {
    it(name, async () => {
      await createActivityDefinition(ad);
      const created = await expectCreated(client(), testTask({ ...requester, recipient: LOCAL_ORG }));
      await expectReadSearch(client(), created.id, true);
    });
  }

  const notRequesterCases: [string, 'local' | 'external', () => ParitySite['local'], boolean][] = [
    ['testReadSearchLocalOrganizationUserIsNotRequester', 'external', () => p.local, true],
    ['testReadSearchExternalOrganizationUserIsNotRequester', 'local', () => p.external, false],
    ['testReadSearchPractitionerDsfAdminUserIsNotRequester', 'external', () => p.admin, true],
    ['testReadSearchPractitionerDicUserUserIsNotRequester', 'local', () => p.practitioner, false],
    ['testReadSearchPractitionerDicUserMinimalUserIsNotRequester', 'local', () => p.minimal, false],
  ];
  for (const [name, requester, client, visible] of notRequesterCases) {
    it(name, async () => {
      await createActivityDefinition(requester === 'local' ? 1 : 2);
      const created =
        requester === 'local'
          ? await expectCreated(p.local, testTask({ requesterOrganization: LOCAL_ORG, recipient: LOCAL_ORG }))
          : await expectCreated(p.external, testTask({ requesterOrganization: EXTERNAL_ORG, recipient: LOCAL_ORG }));
      await expectReadSearch(client(), created.id, visible);
    });
  }

  const draftUpdateCases: [string, () => ParitySite['local'], boolean][] = [
    ['testUpdateDraftTaskLocalOrganization', () => p.local, true],
    ['testUpdateDraftTaskExternalOrganization', () => p.external, false],
    ['testUpdateDraftTaskPractitionerDsfAdmin', () => p.admin, true],
    ['testUpdateDraftTaskPractitionerDicUser', () => p.practitioner, false],
    ['testUpdateDraftTaskPractitionerDicUserMinimal', () => p.minimal, false],
  ];
  for (const [name, client, allowed] of draftUpdateCases) {
    it(name, async () => {
      await createActivityDefinition(14);
      const created = await expectCreated(p.local, draftTestTask());
      const r = await client().put(`/Task/${created.id}`, created);
      if (!allowed) return expectForbidden(r, /^(Task update \(draft->draft\): only the local organization or a DSF_ADMIN|.*lacks the role UPDATE for Task)/);
      expectStatus(r, 200);
      assert.equal(r.json.id, created.id);
      assert.equal(Number(r.json.meta.versionId), Number(created.meta.versionId) + 1);
    });
  }

  it('testSerachTaskWithPractitionerUserByRequester', async () => {
    await createActivityDefinition(5);
    const created = await expectCreated(p.practitioner, testTask({ requesterPractitioner: MAIL.practitioner, recipient: LOCAL_ORG }));
    const r = await p.practitioner.get(`/Task?requester:identifier=${encodeURIComponent(`${PRACTITIONER_ID}|${MAIL.practitioner}`)}`);
    expectStatus(r, 200);
    assert.equal(r.json.total, 1);
    assert.deepEqual(ids(r.json), [created.id]);
  });
});
