// The reference's ResearchStudyIntegrationTest, ported: relatedArtifact urls on create (single and in
// transactions), search by enrollment, $permanent-delete, and read access per version (read, vread,
// history, search) when version 1 is readable by all and version 2 only locally.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { expectForbidden, expectStatus, ids, LOCAL_ORG, ORG_ID, startParitySite, tagAll, tagLocal, type ParitySite } from './parity-site.ts';

let p: ParitySite;

/** The reference's getResearchStudy(url): participating TTP and DIC, a documentation relatedArtifact, LOCAL. */
function researchStudy(url?: string, tags: object[] = [tagLocal()]): any {
  const organization = { type: 'Organization', identifier: { system: ORG_ID, value: LOCAL_ORG } };
  return {
    resourceType: 'ResearchStudy',
    meta: { tag: tags },
    extension: [
      { url: 'http://dsf.dev/fhir/StructureDefinition/extension-participating-ttp', valueReference: organization },
      { url: 'http://dsf.dev/fhir/StructureDefinition/extension-participating-dic', valueReference: organization },
    ],
    identifier: [{ system: 'http://dsf.dev/sid/research-study-identifier', value: randomUUID() }],
    status: 'active',
    ...(url ? { relatedArtifact: [{ type: 'documentation', url }] } : {}),
  };
}

const binary = () => ({ resourceType: 'Binary', meta: { tag: [tagLocal()] }, contentType: 'application/pdf' });

async function createdBinary(): Promise<{ id: string; absolute: string; relative: string }> {
  const r = await p.local.post('/Binary', binary());
  expectStatus(r, 201);
  return { id: r.json.id, absolute: `${p.site.baseUrl}/Binary/${r.json.id}`, relative: `Binary/${r.json.id}` };
}

const transaction = (...entries: object[]) => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });
const post = (resource: object, url: string, fullUrl = `urn:uuid:${randomUUID()}`) => ({ fullUrl, resource, request: { method: 'POST', url } });

async function createRelatedArtifact(url: string): Promise<string> {
  const r = await p.local.post('/ResearchStudy', researchStudy(url));
  expectStatus(r, 201);
  assert.equal(r.json.relatedArtifact.length, 1);
  return r.json.relatedArtifact[0].url;
}

async function createRelatedArtifactViaBundle(url: string, ...more: object[]): Promise<any> {
  const r = await p.local.post('', transaction(post(researchStudy(url), 'ResearchStudy'), ...more));
  expectStatus(r, 200);
  assert.equal(r.json.entry.length, 1 + more.length);
  assert.equal(r.json.entry[0].resource.relatedArtifact.length, 1);
  return r.json;
}

/** Version 1 readable by all, version 2 only locally (as the reference's DAO fixture). */
async function twoVersions(): Promise<string> {
  const rs = await p.storeDirectly(researchStudy('www.test.com', [tagAll()]));
  await p.site.server.store.transaction((c) => p.site.server.store.update(c, { ...rs, meta: { tag: [tagLocal()] } } as any));
  return rs.id;
}

describe('ResearchStudyIntegrationTest', () => {
  before(async () => {
    p = await startParitySite();
  });
  after(() => p?.stop());

  it('testSearchByGroupId', async () => {
    const group = await p.storeDirectly({ resourceType: 'Group', meta: { tag: [tagLocal()] }, type: 'person', actual: false } as any);
    const rs = await p.storeDirectly({ resourceType: 'ResearchStudy', meta: { tag: [tagLocal()] }, status: 'active', enrollment: [{ reference: `Group/${group.id}` }] } as any);
    const r = await p.local.get(`/ResearchStudy?enrollment=${group.id}`, { prefer: 'handling=strict' });
    expectStatus(r, 200);
    assert.equal(r.json.total, 1);
    assert.deepEqual(ids(r.json), [rs.id]);
  });

  it('testCreateWithRelatedArtefactUnknownUrl', async () => {
    assert.equal(await createRelatedArtifact('https://foo.bar'), 'https://foo.bar');
  });

  it('testCreateViaBundleWithRelatedArtefactUnknownUrl', async () => {
    const r = await createRelatedArtifactViaBundle('https://foo.bar');
    assert.equal(r.entry[0].resource.relatedArtifact[0].url, 'https://foo.bar');
  });

  it('testCreateViaBundleWithRelatedArtefactTemporaryUrl', async () => {
    const binaryUrn = `urn:uuid:${randomUUID()}`;
    const r = await createRelatedArtifactViaBundle(binaryUrn, post(binary(), 'Binary', binaryUrn));
    assert.equal(r.entry[0].resource.relatedArtifact[0].url, `${p.site.baseUrl}/Binary/${r.entry[1].resource.id}`);
  });

  it('testCreateViaBundleWithRelatedArtefactConditionalUrl', async () => {
    const b = await createdBinary();
    const r = await createRelatedArtifactViaBundle(`Binary?_id=${b.id}`);
    assert.equal(r.entry[0].resource.relatedArtifact[0].url, b.absolute);
  });

  it('testCreateViaBundleWithRelatedArtefactRelativeLiteralInternalUrl', async () => {
    const b = await createdBinary();
    const r = await createRelatedArtifactViaBundle(b.relative);
    assert.equal(r.entry[0].resource.relatedArtifact[0].url, b.absolute);
  });

  it('testCreateViaBundleWithRelatedArtefactAbsoluteLiteralInternalUrl', async () => {
    const b = await createdBinary();
    const r = await createRelatedArtifactViaBundle(b.absolute);
    assert.equal(r.entry[0].resource.relatedArtifact[0].url, b.absolute);
  });

  it('testCreateWithRelatedArtefactRelativeLiteralInternalUrl', async () => {
    const b = await createdBinary();
    assert.equal(await createRelatedArtifact(b.relative), b.absolute);
  });

  it('testCreateWithRelatedArtefactRelativeLiteralInternalUrlNonExisting', async () => {
    expectForbidden(await p.local.post('/ResearchStudy', researchStudy(`Binary/${randomUUID()}`)), /Reference target \S*\/Binary\/.* of reference at ResearchStudy.relatedArtifact .* not found/);
  });

  it('testCreateViaBundleWithRelatedArtefactRelativeLiteralInternalUrlNonExisting', async () => {
    expectForbidden(await p.local.post('', transaction(post(researchStudy(`Binary/${randomUUID()}`), 'ResearchStudy'))), /Bundle.entry\[0\].*Reference target \S*\/Binary\/.* of reference at ResearchStudy.relatedArtifact .* not found/);
  });

  it('testCreateWithRelatedArtefactAbsoluteLiteralInternalUrl', async () => {
    const b = await createdBinary();
    assert.equal(await createRelatedArtifact(b.absolute), b.absolute);
  });

  it('testCreateWithRelatedArtefactAbsoluteLiteralExternalUrl', async () => {
    const url = `https://www.foo.bar/fhir/Binary/${randomUUID()}`;
    assert.equal(await createRelatedArtifact(url), url);
  });

  it('testCreateViaBundleWithRelatedArtefactAbsoluteLiteralExternalUrl', async () => {
    const url = `https://www.foo.bar/fhir/Binary/${randomUUID()}`;
    const r = await createRelatedArtifactViaBundle(url);
    assert.equal(r.entry[0].resource.relatedArtifact[0].url, url);
  });

  it('testDeletePermanentlyByLocalDeletionUser', async () => {
    const rs = await p.storeDirectly(researchStudy());
    await p.deleteDirectly('ResearchStudy', rs.id);
    expectStatus(await p.local.post(`/ResearchStudy/${rs.id}/$permanent-delete`, undefined), 200);
    expectStatus(await p.local.get(`/ResearchStudy/${rs.id}`), 404);
  });

  it('testDeletePermanentlyByLocalDeletionUserNotMarkedAsDeleted', async () => {
    const rs = await p.storeDirectly(researchStudy());
    expectStatus(await p.local.post(`/ResearchStudy/${rs.id}/$permanent-delete`, undefined), 400, /not marked deleted/);
    expectStatus(await p.local.get(`/ResearchStudy/${rs.id}`), 200);
  });

  it('testDeletePermanentlyByExternalUser', async () => {
    const rs = await p.storeDirectly(researchStudy());
    await p.deleteDirectly('ResearchStudy', rs.id);
    expectForbidden(await p.external.post(`/ResearchStudy/${rs.id}/$permanent-delete`, undefined), /PERMANENT_DELETE/);
  });

  it('testReadAllowedForLocalUserBasedOnVersion', async () => {
    const id = await twoVersions();
    assert.equal((await p.local.get(`/ResearchStudy/${id}`)).json.meta.versionId, '2');
    assert.equal((await p.local.get(`/ResearchStudy/${id}/_history/1`)).json.meta.versionId, '1');
    assert.equal((await p.local.get(`/ResearchStudy/${id}/_history/2`)).json.meta.versionId, '2');
  });

  it('testReadAllowedForRemoteUserBasedOnVersion', async () => {
    const id = await twoVersions();
    expectForbidden(await p.external.get(`/ResearchStudy/${id}`), /Not allowed to read/);
    expectForbidden(await p.external.get(`/ResearchStudy/${id}/_history/2`), /Not allowed to read/);
    const v1 = await p.external.get(`/ResearchStudy/${id}/_history/1`);
    expectStatus(v1, 200);
    assert.equal(v1.json.meta.versionId, '1');
  });

  it('testReadAllowedForLocalUserBasedOnHistory', async () => {
    const id = await twoVersions();
    const r = await p.local.get(`/ResearchStudy/${id}/_history`);
    expectStatus(r, 200);
    // Differs in order only: newest first here (as FHIR asks); the reference lists the oldest first.
    assert.deepEqual(r.json.entry.map((e: any) => [e.resource.resourceType, e.resource.id, e.resource.meta.versionId]), [
      ['ResearchStudy', id, '2'],
      ['ResearchStudy', id, '1'],
    ]);
  });

  it('testReadAllowedForRemoteUserBasedOnHistory', async () => {
    const id = await twoVersions();
    const r = await p.external.get(`/ResearchStudy/${id}/_history`);
    expectStatus(r, 200);
    assert.equal(r.json.total, 1);
    assert.deepEqual(r.json.entry.map((e: any) => [e.resource.id, e.resource.meta.versionId]), [[id, '1']]);
  });

  it('testSearchAllowedForLocalUserBasedOnVersion', async () => {
    const id = await twoVersions();
    assert.deepEqual(ids((await p.local.get(`/ResearchStudy?_id=${id}`)).json), [id]);
  });

  it('testSearchAllowedForRemoteUserBasedOnVersion', async () => {
    const id = await twoVersions();
    const r = await p.external.get(`/ResearchStudy?_id=${id}`);
    expectStatus(r, 200);
    assert.equal(r.json.total, 0);
  });
});
