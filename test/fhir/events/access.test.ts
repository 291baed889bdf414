// Who receives events: the WEBSOCKET role to connect, read rights (the same SQL access filter search
// uses) for each event, and closing when the credentials expire. The identities come from the client
// certificate as the identity provider will resolve them; until that lands in the server, this test
// serves /ws from a second event delivery on the same database with such a context function.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type pg from 'pg';
import { startTestSite, TAG_ALL, type TestSite } from '../../support/fhir-site.ts';
import { createPool } from '../../../src/db/pool.ts';
import { freePort } from '../../../src/db/embedded.ts';
import { thumbprintSha512 } from '../../../src/common/x509.ts';
import { startEventDelivery, type EventDelivery } from '../../../src/fhir/events/event-delivery.ts';
import { localOrganizationRoles, remoteOrganizationRoles, type DsfRole, type Identity, type RoleGrant } from '../../../src/fhir/types/identity.ts';
import type { RequestContext } from '../../../src/fhir/service/request-context.ts';
import { contains, type AccessFilter } from '../../../src/fhir/store/access-condition.ts';
import { EventClient } from './event-client.ts';

let site: TestSite;
let pool: pg.Pool;
let delivery: EventDelivery;
let app: FastifyInstance;
let wsUrl: string;

/** Read access of the test practitioner: resources tagged ALL only. */
const onlyTaggedAll: AccessFilter = () => contains(['meta', 'tag'], [{ code: 'ALL' }]);

function organizationIdentity(name: string, local: boolean, roles: Map<DsfRole, RoleGrant>): Identity {
  return { kind: 'organization', local, organization: { resourceType: 'Organization', name }, organizationIdentifier: name, roles, displayName: name };
}

function contextFor(thumbprint: string): RequestContext {
  const certs = site.certs;
  if (thumbprint === certs.organizations.Test_Organization!.client.thumbprint) {
    return { strict: false, identity: organizationIdentity('Test_Organization', true, localOrganizationRoles()) };
  }
  if (thumbprint === certs.organizations.External_Test_Organization!.client.thumbprint) {
    return { strict: false, identity: organizationIdentity('External_Test_Organization', false, remoteOrganizationRoles()), access: onlyTaggedAll };
  }
  if (thumbprint === certs.users.practitioner!.thumbprint || thumbprint === certs.users.admin!.thumbprint) {
    const admin = thumbprint === certs.users.admin!.thumbprint;
    return {
      strict: false,
      identity: {
        kind: 'practitioner',
        local: true,
        organization: { resourceType: 'Organization', name: 'Test_Organization' },
        organizationIdentifier: 'Test_Organization',
        // WEBSOCKET only for Patient; READ and SEARCH (the search below is role-checked) everywhere.
        roles: new Map<DsfRole, RoleGrant>([['READ', 'all'], ['SEARCH', 'all'], ['WEBSOCKET', new Set(['Patient'])]]),
        displayName: admin ? 'admin' : 'practitioner',
        thumbprint,
        practitionerRoles: [],
        expiresAt: admin ? new Date(Date.now() + 700) : undefined,
      },
      access: onlyTaggedAll,
    };
  }
  throw new Error('unknown certificate');
}

before(async () => {
  site = await startTestSite();
  pool = createPool(site.db.url, 4);
  delivery = await startEventDelivery(pool, site.baseUrl);
  const org = site.certs.organizations.Test_Organization!;
  app = Fastify({ https: { cert: readFileSync(org.server.certPath), key: readFileSync(org.server.keyPath), ca: readFileSync(site.certs.ca.certPath), requestCert: true, rejectUnauthorized: false } } as never) as unknown as FastifyInstance;
  const context = async (req: FastifyRequest) => {
    const cert = (req.raw.socket as TLSSocket).getPeerCertificate();
    return contextFor(thumbprintSha512(cert.raw));
  };
  app.register(async (scoped) => delivery.routes(scoped, context), { prefix: '/fhir' });
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  wsUrl = `wss://localhost:${port}/fhir/ws`;
});
after(async () => {
  await app?.close();
  await delivery?.stop();
  await pool?.end();
  await site?.stop();
});

async function subscription(criteria: string): Promise<string> {
  return (await site.client.create({ resourceType: 'Subscription', meta: TAG_ALL, status: 'active', reason: 'test', criteria, channel: { type: 'websocket', payload: 'application/fhir+json' } })).id;
}

const LOCAL_TAG = { tag: [{ system: 'http://dsf.dev/fhir/CodeSystem/read-access-tag', code: 'LOCAL' }] };

test('a caller without the WEBSOCKET role is closed with 1008 Forbidden', async () => {
  const c = await EventClient.connect(wsUrl, site.certs, 'External_Test_Organization');
  const closed = await c.waitClosed();
  assert.deepEqual(closed, { code: 1008, reason: 'Forbidden' });
});

test('events go only to callers who may read the resource, exactly as search decides', async () => {
  const id = await subscription('Patient?identifier=http://access.test/pid|');
  const local = await EventClient.connect(wsUrl, site.certs, 'Test_Organization');
  const practitioner = await EventClient.connect(wsUrl, site.certs, 'practitioner');
  const second = await EventClient.connect(wsUrl, site.certs, 'practitioner'); // same identity: one access check serves both
  for (const c of [local, practitioner, second]) await c.bind(id);
  const shared = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://access.test/pid', value: 'shared' }], active: true });
  const localOnly = await site.client.create({ resourceType: 'Patient', meta: LOCAL_TAG, identifier: [{ system: 'http://access.test/pid', value: 'local' }], active: true });
  const sentinel = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://access.test/pid', value: 'sentinel' }], active: true });
  for (const c of [local, practitioner, second]) await c.until(() => c.resources().some((r) => r.id === sentinel.id), 'the sentinel');
  assert.deepEqual(local.resources().map((r) => r.id), [shared.id, localOnly.id, sentinel.id]);
  assert.deepEqual(practitioner.resources().map((r) => r.id), [shared.id, sentinel.id]);
  assert.deepEqual(second.resources().map((r) => r.id), [shared.id, sentinel.id]);

  // The practitioner's search with the same access filter finds the same resources.
  const ctx = contextFor(site.certs.users.practitioner!.thumbprint);
  const found = await site.server.service.search(ctx, site.server.pool, 'Patient', [['identifier', 'http://access.test/pid|'], ['_sort', '_lastUpdated']]);
  assert.deepEqual((found.resource as any).entry.map((e: any) => e.resource.id), [shared.id, sentinel.id]);
  for (const c of [local, practitioner, second]) await c.close();
});

test('no event for a type the caller has no WEBSOCKET role on', async () => {
  const practitionerSub = await subscription('Practitioner?identifier=http://access.test/pr|');
  const patientSub = await subscription('Patient?identifier=http://access.test/pid2|');
  const practitioner = await EventClient.connect(wsUrl, site.certs, 'practitioner');
  await practitioner.bind(practitionerSub);
  await practitioner.bind(patientSub);
  const local = await EventClient.connect(wsUrl, site.certs, 'Test_Organization');
  await local.bind(practitionerSub);
  await site.client.create({ resourceType: 'Practitioner', meta: TAG_ALL, identifier: [{ system: 'http://access.test/pr', value: 'pr' }], active: true });
  const sentinel = await site.client.create({ resourceType: 'Patient', meta: TAG_ALL, identifier: [{ system: 'http://access.test/pid2', value: 's' }], active: true });
  await practitioner.until(() => practitioner.resources().some((r) => r.id === sentinel.id), 'the sentinel');
  assert.deepEqual(practitioner.resources().map((r) => r.resourceType), ['Patient']);
  await local.until(() => local.resources().length === 1, 'the Practitioner event for the local organisation');
  assert.equal(local.resources()[0].resourceType, 'Practitioner');
  await practitioner.close();
  await local.close();
});

test('the socket is closed with 1008 "Credentials expired" when the credentials expire', async () => {
  const admin = await EventClient.connect(wsUrl, site.certs, 'admin');
  const closed = await admin.waitClosed();
  assert.deepEqual(closed, { code: 1008, reason: 'Credentials expired' });
});
