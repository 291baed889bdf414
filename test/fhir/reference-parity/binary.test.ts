// The reference's BinaryIntegrationTest, ported: who reads a Binary (by read-access tag or through the
// resource its securityContext names, per version), reads, heads and searches inside batch and
// transaction Bundles, creates, updates and deletes (single and in Bundles, with the three Prefer
// returns), raw streams and ranges. Over HTTPS with the reference's identities.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXTERNAL_ORG, expectForbidden, expectStatus, ids, LOCAL_ORG, PARENT_ORG, startParitySite, tagAll, tagLocal, tagOrganization, tagRole, type ParitySite } from './parity-site.ts';

let p: ParitySite;
const HELLO = Buffer.from('Hello World');

type Client = ParitySite['local'];

interface BinaryOptions {
  tags?: object[];
  securityContext?: string;
  data?: Buffer;
  contentType?: string;
}

const binaryResource = (o: BinaryOptions) => ({
  resourceType: 'Binary',
  ...(o.tags ? { meta: { tag: o.tags } } : {}),
  contentType: o.contentType ?? 'text/plain',
  ...(o.securityContext ? { securityContext: { reference: o.securityContext } } : {}),
  data: (o.data ?? HELLO).toString('base64'),
});

/** A Binary created by the local organisation (the reference stores its fixtures through a DAO). */
async function binary(o: BinaryOptions): Promise<any> {
  const r = await p.local.post('/Binary', binaryResource(o));
  expectStatus(r, 201);
  return r.json;
}

/** A ResearchStudy stored directly with these read-access tags, as the reference's DAO fixtures. */
async function researchStudy(tags: object[], extra: object = {}): Promise<string> {
  const rs = await p.storeDirectly({ resourceType: 'ResearchStudy', meta: { tag: tags }, status: 'active', ...extra } as any);
  return `ResearchStudy/${rs.id}`;
}

async function documentReference(tags: object[], extra: object = {}): Promise<string> {
  const dr = await p.storeDirectly({ resourceType: 'DocumentReference', meta: { tag: tags }, status: 'current', content: [{ attachment: { contentType: 'text/plain' } }], ...extra } as any);
  return `DocumentReference/${dr.id}`;
}

const localAndExternal = () => [tagLocal(), tagOrganization(EXTERNAL_ORG)];
const localAndLocalOrganization = () => [tagLocal(), tagOrganization(LOCAL_ORG)];

async function raw(client: Client, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, any>; bytes: Buffer }> {
  const r = await client.http.stream(`${p.site.baseUrl}${path}`, { method: 'GET', headers });
  const parts: Buffer[] = [];
  for await (const c of r.body) parts.push(c as Buffer);
  return { status: r.status, headers: r.headers, bytes: Buffer.concat(parts) };
}

const bundle = (type: 'batch' | 'transaction', entries: object[]) => ({ resourceType: 'Bundle', type, entry: entries });
const get = (url: string, method = 'GET') => ({ request: { method, url } });
const post = (resource: object, url = 'Binary', fullUrl = `urn:uuid:${randomUUID()}`) => ({ fullUrl, resource, request: { method: 'POST', url } });
const put = (resource: any) => ({ fullUrl: `${p.site.baseUrl}/Binary/${resource.id}`, resource, request: { method: 'PUT', url: `Binary/${resource.id}` } });

async function binaryCount(): Promise<number> {
  return Number((await p.site.server.pool.query(`SELECT count(*) AS n FROM resources WHERE type = 'Binary'`)).rows[0].n);
}

/** The answer to a single read entry of a bundle: the entry (batch) or the whole answer (transaction). */
async function bundleRead(client: Client, type: 'batch' | 'transaction', entry: object): Promise<any> {
  const r = await client.post('', bundle(type, [entry]));
  return r;
}

/** The single entry of a batch/transaction response; a refused entry (403) names its rule. */
function expectEntry(r: any, type: 'batch' | 'transaction', status: string, resourceType?: string, rule?: RegExp): any {
  expectStatus(r, 200);
  assert.equal(r.json.type, `${type}-response`);
  assert.equal(r.json.entry.length, 1);
  const e = r.json.entry[0];
  assert.equal(e.response.status, status);
  if (status.startsWith('403')) {
    assert.ok(rule, 'a 403 entry is asserted with the rule that refused it');
    assert.match(e.response.outcome?.issue?.[0]?.diagnostics ?? '', rule);
  }
  if (resourceType) assert.equal(e.resource?.resourceType, resourceType);
  else assert.equal(e.resource, undefined);
  return e;
}

describe('BinaryIntegrationTest', () => {
  before(async () => {
    // The reference accepts Binaries of 20 MB as FHIR JSON; our default limit (DSF_FHIR_MAX_BODY_BYTES) is 16 MiB.
    p = await startParitySite({ maxBodyBytes: 32 * 1024 * 1024 });
  });
  after(() => p?.stop());
  afterEach(() => p.reset(['ResearchStudy', 'DocumentReference', 'Patient']));

  it('testReadAllowedLocalUser', async () => {
    const b = await binary({ tags: [tagLocal()] });
    const r = await p.local.get(`/Binary/${b.id}`);
    expectStatus(r, 200);
    assert.equal(Buffer.from(r.json.data, 'base64').toString(), 'Hello World');
  });

  it('testReadHeadAllowedLocalUser', async () => {
    const b = await binary({ tags: [tagLocal()] });
    const r = await p.local.request('HEAD', `/Binary/${b.id}`);
    assert.equal(r.status, 200);
  });

  it('testReadAllowedLocalUserViaSecurityContext', async () => {
    const b = await binary({ securityContext: await researchStudy([tagLocal()]) });
    expectStatus(await p.local.get(`/Binary/${b.id}`), 200);
  });

  it('testReadAllowedLocalUserViaSecurityContextDocumentReference', async () => {
    const b = await binary({ securityContext: await documentReference([tagLocal()]) });
    expectStatus(await p.local.get(`/Binary/${b.id}`), 200);
  });

  it('testReadNotAllowedRemoteUser', async () => {
    const b = await binary({ tags: [tagLocal()] });
    expectForbidden(await p.external.get(`/Binary/${b.id}`), /Not allowed to read/);
  });

  it('testReadAllowedLocalUserViaStream', async () => {
    const b = await binary({ tags: [tagLocal()] });
    const r = await raw(p.local, `/Binary/${b.id}`, { accept: 'text/plain' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.bytes, HELLO);
  });

  it('testReadAllowedLocalUserViaStreamWithVersion', async () => {
    const b = await binary({ tags: [tagLocal()] });
    const r = await raw(p.local, `/Binary/${b.id}/_history/${b.meta.versionId}`, { accept: 'text/plain' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.bytes, HELLO);
  });

  it('testReadAllowedLocalUserViaStreamAcceptWildcard', async () => {
    const b = await binary({ tags: [tagLocal()] });
    const r = await raw(p.local, `/Binary/${b.id}`, { accept: '*/*' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.bytes, HELLO);
  });

  it('testReadAllowedLocalUserViaStreamMediaTypeNotSupported', async () => {
    const b = await binary({ tags: [tagLocal()] });
    const r = await raw(p.local, `/Binary/${b.id}`, { accept: 'application/xml' });
    assert.equal(r.status, 406);
  });

  it('testReadAllowedExternalUser', async () => {
    const b = await binary({ tags: localAndExternal() });
    expectStatus(await p.external.get(`/Binary/${b.id}`), 200);
  });

  it('testReadAllowedExternalUserNotFound', async () => {
    expectStatus(await p.external.get(`/Binary/${randomUUID()}`), 404);
  });

  it('testReadAllowedExternalUserNotFoundWithVersion', async () => {
    expectStatus(await p.external.get(`/Binary/${randomUUID()}/_history/12`), 404);
  });

  it('testReadAllowedExternalUserViaSecurityContext', async () => {
    const b = await binary({ securityContext: await researchStudy(localAndExternal()) });
    expectStatus(await p.external.get(`/Binary/${b.id}`), 200);
  });

  it('testReadAllowedExternalUserViaSecurityContextDocumentReference', async () => {
    const b = await binary({ securityContext: await documentReference(localAndExternal()) });
    expectStatus(await p.external.get(`/Binary/${b.id}`), 200);
  });

  it('testReadNotAllowedExternalUser', async () => {
    const b = await binary({ tags: localAndLocalOrganization() });
    expectForbidden(await p.external.get(`/Binary/${b.id}`), /Not allowed to read/);
  });

  for (const type of ['transaction', 'batch'] as const) {
    const Via = type === 'transaction' ? 'ViaTransactionBundle' : 'ViaBatchBundle';

    it(`testReadAllowedLocalUser${Via}`, async () => {
      const b = await binary({ tags: [tagLocal()] });
      const e = expectEntry(await bundleRead(p.local, type, get(`Binary/${b.id}`)), type, '200 OK', 'Binary');
      assert.equal(e.resource.id, b.id);
    });

    it(`testReadAllowedExternalUser${Via}`, async () => {
      const b = await binary({ tags: localAndExternal() });
      const e = expectEntry(await bundleRead(p.external, type, get(`Binary/${b.id}`)), type, '200 OK', 'Binary');
      assert.equal(e.resource.id, b.id);
    });

    it(`testReadNotAllowedExternalUser${Via}`, async () => {
      const b = await binary({ tags: [tagLocal()] });
      const r = await bundleRead(p.external, type, get(`Binary/${b.id}`));
      if (type === 'transaction') expectForbidden(r, /Not allowed to read/);
      else assert.equal(expectEntry(r, type, '403 Forbidden', undefined, /Not allowed to read Binary\//).response.outcome.issue[0].code, 'forbidden');
    });

    for (const [method, name] of [['GET', 'Read'], ['HEAD', 'Head']] as const) {
      it(`test${name}AllowedLocalUserNotFound${Via}`, async () => {
        expectEntry(await bundleRead(p.local, type, get(`Binary/${randomUUID()}`, method)), type, '404 Not Found');
      });
      it(`test${name}AllowedLocalUserNotFound${Via}WithVersion`, async () => {
        expectEntry(await bundleRead(p.local, type, get(`Binary/${randomUUID()}/_history/12`, method)), type, '404 Not Found');
      });
    }

    it(`testGetSearchAllowedLocalUserNotFound${Via}`, async () => {
      const e = expectEntry(await bundleRead(p.local, type, get(`Binary?_id=${randomUUID()}`)), type, '200 OK', 'Bundle');
      assert.equal(e.resource.type, 'searchset');
      assert.equal(e.resource.total, 0);
      assert.equal(e.resource.entry, undefined);
    });

    it(`testHeadSearchAllowedLocalUserNotFound${Via}`, async () => {
      expectEntry(await bundleRead(p.local, type, get(`Binary?_id=${randomUUID()}`, 'HEAD')), type, '200 OK');
    });

    it(`testGetSearchCount0AllowedLocalUserNotFound${Via}`, async () => {
      const e = expectEntry(await bundleRead(p.local, type, get(`Binary?_id=${randomUUID()}&_count=0`)), type, '200 OK', 'Bundle');
      assert.equal(e.resource.total, 0);
      assert.equal(e.resource.entry, undefined);
    });

    it(`testGetSearchCount0AllowedLocalUserFound${Via}`, async () => {
      const b = await binary({ tags: [tagLocal()] });
      const e = expectEntry(await bundleRead(p.local, type, get(`Binary?_id=${b.id}&_count=0`)), type, '200 OK', 'Bundle');
      assert.equal(e.resource.type, 'searchset');
      assert.equal(e.resource.total, 1);
      assert.equal(e.resource.entry, undefined);
    });

    it(`testHeadAllowedLocalUser${Via}`, async () => {
      const b = await binary({ tags: [tagLocal()] });
      expectEntry(await bundleRead(p.local, type, get(`Binary/${b.id}`, 'HEAD')), type, '200 OK');
    });

    it(`testHeadAllowedExternalUser${Via}`, async () => {
      const b = await binary({ tags: localAndExternal() });
      expectEntry(await bundleRead(p.external, type, get(`Binary/${b.id}`, 'HEAD')), type, '200 OK');
    });

    it(`testHeadNotAllowedExternalUser${Via}`, async () => {
      const b = await binary({ tags: [tagLocal()] });
      const r = await bundleRead(p.external, type, get(`Binary/${b.id}`, 'HEAD'));
      if (type === 'transaction') expectForbidden(r, /Not allowed to read/);
      else expectEntry(r, type, '403 Forbidden', undefined, /Not allowed to read Binary\//);
    });
  }

  it('testReadAllowedLocalUserNotFound', async () => {
    expectStatus(await p.local.get(`/Binary/${randomUUID()}`), 404);
  });

  it('testReadAllowedLocalUserNotFoundWithVersion', async () => {
    expectStatus(await p.local.get(`/Binary/${randomUUID()}/_history/12`), 404);
  });

  it('testSearchAllowedLocalUserNotFound', async () => {
    const r = await p.local.get(`/Binary?_id=${randomUUID()}`);
    expectStatus(r, 200);
    assert.equal(r.json.total, 0);
    assert.equal(r.json.entry, undefined);
  });

  it('testCreateNotAllowedNoReadAccessTagOrSecurityContext', async () => {
    const before = await binaryCount();
    expectForbidden(await p.local.post('/Binary', binaryResource({})), /no read-access tag/);
    assert.equal(await binaryCount(), before);
  });

  it('testCreateAllowedReadAccessTag', async () => {
    const b = await binary({ tags: [tagLocal()] });
    assert.equal(b.meta.versionId, '1');
    assert.equal(Buffer.from(b.data, 'base64').toString(), 'Hello World');
  });

  it('testCreateAllowedSecurityContext', async () => {
    const rs = await researchStudy([tagLocal()]);
    const b = await binary({ securityContext: rs });
    assert.equal(b.meta.versionId, '1');
    assert.equal(b.securityContext.reference, rs);
  });

  it('testCreateAllowedSecurityContextDocumentReference', async () => {
    const dr = await documentReference([tagLocal()]);
    const b = await binary({ securityContext: dr });
    assert.equal(b.securityContext.reference, dr);
  });

  it('testCreateReturnMinimal', async () => {
    const r = await p.local.post('/Binary', binaryResource({ tags: [tagLocal()] }), { prefer: 'return=minimal' });
    expectStatus(r, 201);
    assert.equal(r.body, '');
    assert.match(String(r.headers.location), /\/Binary\/[0-9a-f-]{36}\/_history\/1$/);
  });

  it('testCreateReturnOperationOutcome', async () => {
    const r = await p.local.post('/Binary', binaryResource({ tags: [tagLocal()] }), { prefer: 'return=OperationOutcome' });
    expectStatus(r, 201);
    assert.equal(r.json.resourceType, 'OperationOutcome');
  });

  /** Raw upload as the reference's createBinary(InputStream, mediaType, securityContext). */
  async function upload(securityContext: string, data: Buffer, prefer?: string): Promise<any> {
    const headers: Record<string, string> = { 'content-type': 'text/plain', 'x-security-context': securityContext, accept: 'application/fhir+json' };
    if (prefer) headers.prefer = prefer;
    const r = await p.local.http.request(`${p.site.baseUrl}/Binary`, { method: 'POST', headers, body: data });
    return { ...r, json: r.body ? JSON.parse(r.body) : undefined };
  }

  for (const [suffix, contextOf] of [
    ['', () => researchStudy([tagLocal()])],
    ['DocumentReference', () => documentReference([tagLocal()])],
  ] as const) {
    it(`testCreateViaInputStream${suffix}`, async () => {
      const context = await contextOf();
      const r = await upload(context, HELLO);
      expectStatus(r, 201);
      assert.equal(r.json.meta.versionId, '1');
      assert.equal(r.json.contentType, 'text/plain');
      assert.deepEqual(Buffer.from(r.json.data, 'base64'), HELLO);
      assert.equal(r.json.securityContext.reference, context);
    });
  }

  it('testCreateViaInputStreamReturnMinimal', async () => {
    const r = await upload(await researchStudy([tagLocal()]), HELLO, 'return=minimal');
    assert.equal(r.status, 201);
    assert.equal(r.body, '');
    assert.match(String(r.headers.location), /\/Binary\/[0-9a-f-]{36}\/_history\/1$/);
  });

  it('testCreateViaInputStreamReturnOperationOutcome', async () => {
    const r = await upload(await researchStudy([tagLocal()]), HELLO, 'return=OperationOutcome');
    expectStatus(r, 201);
    assert.equal(r.json.resourceType, 'OperationOutcome');
  });

  it('testCreateNotAllowedExternalUser', async () => {
    const rs = await researchStudy([tagLocal()]);
    expectForbidden(await p.external.post('/Binary', binaryResource({ securityContext: rs })), /lacks the role CREATE/);
  });

  it('testCreateSecurityContextOrgNotExisting', async () => {
    expectForbidden(await p.local.post('/Binary', binaryResource({ securityContext: `Group/${randomUUID()}` })), /does not exist/);
  });

  it('testCreateSecurityContextLogicalReference', async () => {
    const identifier = { system: 'http://dsf.dev/sid/research-study-identifier', value: randomUUID() };
    await researchStudy([tagLocal()], { identifier: [identifier] });
    const r = await p.local.post('/Binary', { ...binaryResource({}), securityContext: { type: 'ResearchStudy', identifier } });
    expectStatus(r, 201);
  });

  it('testCreateSecurityContextLogicalReferenceDocumentReference', async () => {
    const identifier = { system: 'http://dsf.dev/sid/document-reference-test-identifier', value: randomUUID() };
    await documentReference([tagLocal()], { identifier: [identifier] });
    const r = await p.local.post('/Binary', { ...binaryResource({}), securityContext: { type: 'DocumentReference', identifier } });
    expectStatus(r, 201);
  });

  for (const [name, prefer] of [
    ['testCreateViaTransactionBundle', undefined],
    ['testCreateViaTransactionBundleWithMinimalReturn', 'return=minimal'],
    ['testCreateViaTransactionBundleWithOperationOutcomeReturn', 'return=OperationOutcome'],
  ] as const) {
    it(name, async () => {
      const r = await p.local.post('', bundle('transaction', [post(binaryResource({ tags: [tagLocal()] }))]), prefer ? { prefer } : {});
      const e = expectEntry(r, 'transaction', '201 Created', prefer ? undefined : 'Binary');
      assert.equal(e.response.etag, 'W/"1"');
      assert.match(e.response.location, /\/Binary\/[0-9a-f-]{36}\/_history\/1$/);
      if (prefer === 'return=OperationOutcome') assert.equal(e.response.outcome.resourceType, 'OperationOutcome');
      else assert.equal(e.response.outcome, undefined);
    });
  }

  it('testCreateViaTransactionBundleSecurityContext', async () => {
    const rsUrn = `urn:uuid:${randomUUID()}`;
    const rs = { resourceType: 'ResearchStudy', meta: { tag: [tagLocal()] }, status: 'active' };
    const r = await p.local.post('', bundle('transaction', [post(rs, 'ResearchStudy', rsUrn), post(binaryResource({ securityContext: rsUrn }))]));
    expectStatus(r, 200);
    assert.deepEqual(r.json.entry.map((e: any) => e.response.status), ['201 Created', '201 Created']);
    assert.deepEqual(r.json.entry.map((e: any) => e.response.etag), ['W/"1"', 'W/"1"']);
    assert.equal(r.json.entry[1].resource.securityContext.reference, `ResearchStudy/${r.json.entry[0].resource.id}`);
  });

  it('testCreateViaTransactionBundleSecurityContextDocumentReference', async () => {
    const drUrn = `urn:uuid:${randomUUID()}`;
    const binaryUrn = `urn:uuid:${randomUUID()}`;
    const dr = { resourceType: 'DocumentReference', meta: { tag: [tagLocal()] }, status: 'current', content: [{ attachment: { contentType: 'text/plain', url: binaryUrn } }] };
    const r = await p.local.post('', bundle('transaction', [post(dr, 'DocumentReference', drUrn), post(binaryResource({ securityContext: drUrn }), 'Binary', binaryUrn)]));
    expectStatus(r, 200);
    assert.deepEqual(r.json.entry.map((e: any) => e.response.status), ['201 Created', '201 Created']);
    assert.equal(r.json.entry[0].resource.content[0].attachment.url, `${p.site.baseUrl}/Binary/${r.json.entry[1].resource.id}`);
  });

  it('testCreateViaTransactionBundleForbiddenNoReadAccessTagOrSecurityContext', async () => {
    const before = await binaryCount();
    expectForbidden(await p.local.post('', bundle('transaction', [post(binaryResource({}))])), /no read-access tag/);
    assert.equal(await binaryCount(), before);
  });

  it('testCreateNotAllowedExternalUserViaTransactionBundle', async () => {
    const rs = await researchStudy([tagLocal()]);
    expectForbidden(await p.external.post('', bundle('transaction', [post(binaryResource({ securityContext: rs }))])), /lacks the role CREATE/);
  });

  it('testCreateSecurityContextNotExistingViaTransactionBundle', async () => {
    expectForbidden(await p.local.post('', bundle('transaction', [post(binaryResource({ securityContext: `ResearchStudy/${randomUUID()}` }))])), /does not exist/);
  });

  it('testCreateViaBatchBundle', async () => {
    const e = expectEntry(await p.local.post('', bundle('batch', [post(binaryResource({ tags: [tagLocal()] }))])), 'batch', '201 Created', 'Binary');
    assert.equal(e.response.etag, 'W/"1"');
  });

  it('testCreateNotAllowedExternalUserViaBatchBundle', async () => {
    const rs = await researchStudy([tagLocal()]);
    expectEntry(await p.external.post('', bundle('batch', [post(binaryResource({ securityContext: rs }))])), 'batch', '403 Forbidden', undefined, /lacks the role CREATE for Binary/);
  });

  it('testCreateSecurityContextNotExistingViaBatchBundle', async () => {
    expectEntry(await p.local.post('', bundle('batch', [post(binaryResource({ securityContext: `ResearchStudy/${randomUUID()}` }))])), 'batch', '403 Forbidden', undefined, /^Binary (create|update): Binary.securityContext ResearchStudy\/.* does not exist/);
  });

  /** A Binary with a ResearchStudy security context, its content changed for an update. */
  async function updatable(): Promise<any> {
    const b = await binary({ securityContext: await researchStudy([tagLocal()]) });
    return { ...b, data: Buffer.from('Hello World 2').toString('base64') };
  }

  it('testUpdate', async () => {
    const b = await updatable();
    const r = await p.local.put(`/Binary/${b.id}`, b);
    expectStatus(r, 200);
    assert.equal(r.json.meta.versionId, '2');
    assert.equal(Buffer.from(r.json.data, 'base64').toString(), 'Hello World 2');
  });

  it('testUpdateReturnMinimal', async () => {
    const b = await updatable();
    const r = await p.local.put(`/Binary/${b.id}`, b, { prefer: 'return=minimal' });
    expectStatus(r, 200);
    assert.equal(r.body, '');
    assert.match(String(r.headers.location), /\/_history\/2$/);
  });

  it('testUpdateReturnOperationOutcome', async () => {
    const b = await updatable();
    const r = await p.local.put(`/Binary/${b.id}`, b, { prefer: 'return=OperationOutcome' });
    expectStatus(r, 200);
    assert.equal(r.json.resourceType, 'OperationOutcome');
  });

  it('testUpdateNotAllowedExternalUser', async () => {
    const b = await updatable();
    expectForbidden(await p.external.put(`/Binary/${b.id}`, b), /lacks the role UPDATE/);
  });

  it('testUpdateViaTransactionBundle', async () => {
    const b = await updatable();
    const e = expectEntry(await p.local.post('', bundle('transaction', [put(b)])), 'transaction', '200 OK', 'Binary');
    assert.equal(e.response.etag, 'W/"2"');
  });

  it('testUpdateNotAllowedExternalUserViaTransactionBundle', async () => {
    const b = await updatable();
    expectForbidden(await p.external.post('', bundle('transaction', [put(b)])), /lacks the role UPDATE/);
  });

  it('testUpdateSecurityContextNotExistingViaTransactionBundle', async () => {
    const b = await updatable();
    b.securityContext = { reference: `ResearchStudy/${randomUUID()}` };
    expectForbidden(await p.local.post('', bundle('transaction', [put(b)])), /does not exist/);
  });

  it('testUpdateViaBatchBundle', async () => {
    const b = await updatable();
    const e = expectEntry(await p.local.post('', bundle('batch', [put(b)])), 'batch', '200 OK', 'Binary');
    assert.equal(e.response.etag, 'W/"2"');
  });

  it('testUpdateNotAllowedExternalUserViaBatchBundle', async () => {
    const b = await updatable();
    expectEntry(await p.external.post('', bundle('batch', [put(b)])), 'batch', '403 Forbidden', undefined, /lacks the role UPDATE for Binary/);
  });

  it('testUpdateSecurityContextOrgNotExistingViaBatchBundle', async () => {
    const b = await updatable();
    b.securityContext = { reference: `ResearchStudy/${randomUUID()}` };
    expectEntry(await p.local.post('', bundle('batch', [put(b)])), 'batch', '403 Forbidden', undefined, /^Binary (create|update): Binary.securityContext ResearchStudy\/.* does not exist/);
  });

  it('testSearchAll', async () => {
    const before = await p.local.get('/Binary?_count=1000');
    const rs1 = await researchStudy([tagLocal()]);
    const rs2 = await researchStudy([tagLocal(), tagRole(PARENT_ORG, 'DIC')]);
    const created = [await binary({ securityContext: rs1 }), await binary({ securityContext: rs2 }), await binary({ tags: [tagLocal()] }), await binary({ tags: [tagAll()] })];
    const r = await p.local.get('/Binary?_count=1000');
    expectStatus(r, 200);
    assert.equal(r.json.total, before.json.total + 4);
    const found = new Set(ids(r.json));
    for (const b of created) assert.ok(found.has(b.id));
  });

  it('testSearchAllExternalUser', async () => {
    const before = await p.external.get('/Binary?_count=1000');
    const rs1 = await researchStudy([tagLocal()]);
    const rs2 = await researchStudy([tagLocal(), tagOrganization(EXTERNAL_ORG)]);
    const rs3 = await researchStudy([tagLocal(), tagRole(PARENT_ORG, 'TTP')]);
    const [, b2, b3, , b5] = [
      await binary({ securityContext: rs1 }),
      await binary({ securityContext: rs2 }),
      await binary({ securityContext: rs3 }),
      await binary({ tags: [tagLocal()] }),
      await binary({ tags: [tagAll()] }),
    ];
    const r = await p.external.get('/Binary?_count=1000');
    expectStatus(r, 200);
    assert.equal(r.json.total, before.json.total + 3);
    const found = new Set(ids(r.json));
    for (const b of [b2, b3, b5]) assert.ok(found.has(b.id));
  });

  it('testDelete', async () => {
    const b = await binary({ securityContext: await researchStudy([tagLocal()]) });
    expectStatus(await p.local.delete(`/Binary/${b.id}`), 200);
    expectStatus(await p.local.get(`/Binary/${b.id}`), 410);
  });

  it('testDeleteDeleted', async () => {
    const b = await binary({ securityContext: await researchStudy([tagLocal()]) });
    await p.deleteDirectly('Binary', b.id);
    expectStatus(await p.local.delete(`/Binary/${b.id}`), 200);
    expectStatus(await p.local.get(`/Binary/${b.id}`), 410);
  });

  it('testDeleteNotAllowedExternalUser', async () => {
    const b = await binary({ securityContext: await researchStudy([tagAll()]) });
    expectForbidden(await p.external.delete(`/Binary/${b.id}`), /lacks the role DELETE/);
  });

  it('testDeletePermanentlyByLocalDeletionUser', async () => {
    const b = await binary({ tags: [tagLocal()] });
    await p.deleteDirectly('Binary', b.id);
    expectStatus(await p.local.post(`/Binary/${b.id}/$permanent-delete`, undefined), 200);
    expectStatus(await p.local.get(`/Binary/${b.id}`), 404);
  });

  it('testDeletePermanentlyByLocalDeletionUserNotMarkedAsDeleted', async () => {
    const b = await binary({ tags: [tagLocal()] });
    expectStatus(await p.local.post(`/Binary/${b.id}/$permanent-delete`, undefined), 400, /not marked deleted/);
  });

  it('testDeletePermanentlyByExternalUser', async () => {
    const b = await binary({ tags: [tagLocal()] });
    expectForbidden(await p.external.post(`/Binary/${b.id}/$permanent-delete`, undefined), /PERMANENT_DELETE/);
  });

  /** Version 1 readable by all (ALL), version 2 only locally (LOCAL). */
  async function twoVersions(): Promise<string> {
    const b = await binary({ tags: [tagAll()], contentType: 'application/pdf' });
    const r = await p.local.put(`/Binary/${b.id}`, { ...b, meta: { tag: [tagLocal()] } });
    expectStatus(r, 200);
    assert.equal(r.json.meta.versionId, '2');
    return b.id;
  }

  it('testReadAllowedForLocalUserBasedOnVersion', async () => {
    const id = await twoVersions();
    assert.equal((await p.local.get(`/Binary/${id}`)).json.meta.versionId, '2');
    assert.equal((await p.local.get(`/Binary/${id}/_history/1`)).json.meta.versionId, '1');
    assert.equal((await p.local.get(`/Binary/${id}/_history/2`)).json.meta.versionId, '2');
  });

  it('testReadAllowedForRemoteUserBasedOnVersion', async () => {
    const id = await twoVersions();
    expectForbidden(await p.external.get(`/Binary/${id}`), /Not allowed to read Binary\//);
    expectForbidden(await p.external.get(`/Binary/${id}/_history/2`), /Not allowed to read Binary\//);
    const v1 = await p.external.get(`/Binary/${id}/_history/1`);
    expectStatus(v1, 200);
    assert.equal(v1.json.meta.versionId, '1');
  });

  it('testReadAllowedForLocalUserBasedOnHistory', async () => {
    const id = await twoVersions();
    const r = await p.local.get(`/Binary/${id}/_history`);
    expectStatus(r, 200);
    // Differs in order only: newest first here (as FHIR asks); the reference lists the oldest first.
    assert.deepEqual(r.json.entry.map((e: any) => [e.resource.resourceType, e.resource.id, e.resource.meta.versionId]), [
      ['Binary', id, '2'],
      ['Binary', id, '1'],
    ]);
  });

  it('testReadAllowedForRemoteUserBasedOnHistory', async () => {
    const id = await twoVersions();
    const r = await p.external.get(`/Binary/${id}/_history`);
    expectStatus(r, 200);
    assert.equal(r.json.total, 1);
    assert.deepEqual(r.json.entry.map((e: any) => [e.resource.id, e.resource.meta.versionId]), [[id, '1']]);
  });

  it('testSearchAllowedForLocalUserBasedOnVersion', async () => {
    const id = await twoVersions();
    assert.deepEqual(ids((await p.local.get(`/Binary?_id=${id}`)).json), [id]);
  });

  it('testSearchAllowedForRemoteUserBasedOnVersion', async () => {
    const id = await twoVersions();
    const r = await p.external.get(`/Binary?_id=${id}`);
    expectStatus(r, 200);
    assert.equal(r.json.entry, undefined);
  });

  /** A ResearchStudy readable by all, then (version 2) only locally; returns its reference and the update. */
  async function securityContextChangingToLocal(): Promise<{ context: string; restrict: () => Promise<void> }> {
    const rs = await p.storeDirectly({ resourceType: 'ResearchStudy', meta: { tag: [tagAll()] }, status: 'active' } as any);
    return {
      context: `ResearchStudy/${rs.id}`,
      restrict: async () => {
        await p.site.server.store.transaction((c) => p.site.server.store.update(c, { ...rs, meta: { tag: [tagLocal()] } } as any));
      },
    };
  }

  it('testReadAllowedForLocalUserWithSecurityContextBasedOnVersion', async () => {
    const { context, restrict } = await securityContextChangingToLocal();
    const b = await binary({ securityContext: context });
    expectStatus(await p.local.get(`/Binary/${b.id}`), 200);
    await restrict();
    expectStatus(await p.local.get(`/Binary/${b.id}`), 200);
  });

  it('testReadAllowedForRemoteUserWithSecurityContextBasedOnVersion', async () => {
    const { context, restrict } = await securityContextChangingToLocal();
    const b = await binary({ securityContext: context });
    expectStatus(await p.external.get(`/Binary/${b.id}`), 200);
    await restrict();
    expectForbidden(await p.external.get(`/Binary/${b.id}`), /Not allowed to read Binary\//);
  });

  it('testReadAllowedForRemoteUserWithContradictingSecurityContextAndAccessTag', async () => {
    const rs = await researchStudy([tagAll()]);
    expectForbidden(await p.local.post('/Binary', binaryResource({ securityContext: rs, tags: [tagAll()] })), /not both/);
  });

  for (const [name, roles, readable] of [
    ['testReadAllowedForRemoteUserWithSecurityContextBasedAccessTagRole1', ['TTP'], true],
    ['testReadAllowedForRemoteUserWithSecurityContextBasedAccessTagRole2', ['DTS'], true],
    ['testReadAllowedForRemoteUserWithSecurityContextBasedAccessTagRole3', ['TTP', 'DTS'], true],
    ['testReadNotAllowedForRemoteUserWithSecurityContextBasedAccessTagRole', ['HRP'], false],
  ] as const) {
    it(name, async () => {
      const rs = await researchStudy([tagLocal(), ...roles.map((role) => tagRole(PARENT_ORG, role))]);
      const b = await binary({ securityContext: rs });
      const r = await p.external.get(`/Binary/${b.id}`);
      if (readable) {
        expectStatus(r, 200);
        assert.equal(r.json.id, b.id);
      } else expectForbidden(r, /Not allowed to read Binary\//);
    });
  }

  it('testConditionalRequest', async () => {
    const created = await binary({ tags: [tagAll()] });
    const since = new Date(created.meta.lastUpdated).toUTCString();
    assert.equal((await p.local.get(`/Binary/${created.id}`, { 'if-none-match': `W/"${created.meta.versionId}"` })).status, 304);
    assert.equal((await p.local.get(`/Binary/${created.id}`, { 'if-modified-since': since })).status, 304);
    // If-Modified-Since has whole seconds: version 2 must be at least a second newer (as the reference waits).
    await sleep(1000);
    const updated = await p.local.put(`/Binary/${created.id}`, created);
    expectStatus(updated, 200);
    assert.notEqual(updated.json.meta.versionId, created.meta.versionId);
    const read3 = await p.local.get(`/Binary/${created.id}`, { 'if-none-match': `W/"${created.meta.versionId}"` });
    expectStatus(read3, 200);
    assert.equal(read3.json.meta.versionId, updated.json.meta.versionId);
    const read4 = await p.local.get(`/Binary/${created.id}`, { 'if-modified-since': since });
    expectStatus(read4, 200);
    assert.equal(read4.json.meta.versionId, updated.json.meta.versionId);
  });

  it('testCreateLargeBinaryFhirResource', async () => {
    const data = Buffer.alloc(1204 * 1024 * 8);
    const r = await p.local.post('/Binary', binaryResource({ tags: [tagAll()], data }), { prefer: 'return=minimal' });
    expectStatus(r, 201);
  });

  for (const [name, length] of [
    ['testCreateLargeBinaryFhirJsonResource1', 14999826],
    ['testCreateLargeBinaryFhirJsonResource2', 14999999],
  ] as const) {
    it(name, async () => {
      const data = Buffer.from(`{"data": "${'a'.repeat(length)}"}`);
      const r = await p.local.post('/Binary', binaryResource({ tags: [tagAll()], data, contentType: 'application/json' }), { prefer: 'return=minimal' });
      expectStatus(r, 201);
    });
  }

  it('testCreate8MiB', async () => {
    const patient = await p.storeDirectly({ resourceType: 'Patient', meta: { tag: [tagAll()] } } as any);
    const data = Buffer.alloc(1024 * 1024 * 8);
    const r = await p.local.http.request(`${p.site.baseUrl}/Binary`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-security-context': `Patient/${patient.id}`, accept: 'application/fhir+json' },
      body: data,
    });
    assert.equal(r.status, 201);
    assert.equal(Buffer.from(JSON.parse(r.body).data, 'base64').length, data.length);
  });

  it('testCreateReadDelete4GiB', { skip: '4 GiB through a 2-core shared test machine; streaming is covered by test/fhir/rest/binary-streaming.test.ts' }, () => {});

  it('testCreateViaTransactionBundleExpectRollback', async () => {
    const before = await binaryCount();
    const organization = { resourceType: 'Organization', meta: { tag: [tagLocal()] } };
    expectForbidden(await p.local.post('', bundle('transaction', [post(binaryResource({ tags: [tagLocal()] })), post(organization, 'Organization')])), /organization-identifier/);
    assert.equal(await binaryCount(), before, 'the Binary of the refused transaction is rolled back');
  });

  it('testCreateReadRange', async () => {
    const patient = await p.storeDirectly({ resourceType: 'Patient', meta: { tag: [tagAll()] } } as any);
    const data = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const up = await p.local.http.request(`${p.site.baseUrl}/Binary`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-security-context': `Patient/${patient.id}`, accept: 'application/fhir+json' },
      body: data,
    });
    assert.equal(up.status, 201);
    const id = JSON.parse(up.body).id;
    const read = (range?: string) => raw(p.local, `/Binary/${id}`, { accept: 'application/octet-stream', ...(range ? { range } : {}) });
    assert.deepEqual((await read()).bytes, data);
    for (const [range, expected] of [
      ['bytes=0-1', [0, 1]],
      ['bytes=2-3', [2, 3]],
      ['bytes=4-', [4, 5, 6, 7, 8, 9]],
      ['bytes=-2', [8, 9]],
    ] as const) {
      const r = await read(range);
      assert.equal(r.status, 206);
      assert.deepEqual([...r.bytes], expected);
    }
  });
});
