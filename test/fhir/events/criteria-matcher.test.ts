// The in-memory criteria matcher must agree with search: for each criteria, the stored resources it
// accepts are exactly those the SQL search finds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { startTestSite, type TestSite } from '../../support/fhir-site.ts';
import { executeSearch } from '../../../src/fhir/store/search-query.ts';
import { matchesCriteria } from '../../../src/fhir/search/criteria-match.ts';
import { matchableResource } from '../../../src/fhir/events/matchable-resource.ts';
import { parseCriteria } from '../../../src/fhir/types/subscription.ts';

let site: TestSite;
const stored: Resource[] = [];

const task = (value: string, status: string, authoredOn: string | undefined, extra: Record<string, unknown> = {}): any => ({
  resourceType: 'Task',
  identifier: [{ system: 'http://matcher.test/task', value }],
  status,
  intent: 'order',
  ...(authoredOn ? { authoredOn } : {}),
  ...extra,
});

before(async () => {
  site = await startTestSite();
  const { store } = site.server;
  const org = (await store.transaction((c) => store.create(c, { resourceType: 'Organization', name: 'Matcher Org', identifier: [{ system: 'http://dsf.dev/sid/organization-identifier', value: 'matcher.test' }], active: true } as Resource))).resource;
  const resources: any[] = [
    task('t1', 'requested', '2024-03-01T10:00:00Z', { requester: { reference: `Organization/${org.id}` } }),
    task('t2', 'in-progress', '2024-03-02', { requester: { identifier: { system: 'http://dsf.dev/sid/organization-identifier', value: 'matcher.test' } } }),
    task('t3', 'completed', undefined, { requester: { reference: `${site.baseUrl}/Organization/${org.id}` } }),
    task('T4', 'requested', '2023-12-31T23:59:59.500Z', { requester: { reference: 'https://other.test/fhir/Organization/x1' } }),
    { resourceType: 'Patient', identifier: [{ system: 'http://matcher.test/pid', value: 'p1' }, { value: 'no-system' }], active: true, meta: { profile: ['http://matcher.test/StructureDefinition/p|1.0'] } },
    { resourceType: 'Patient', identifier: [{ system: 'http://matcher.test/pid', value: 'p2' }], active: false },
    { resourceType: 'Organization', name: 'Zürich Lab', identifier: [{ system: 'http://matcher.test/org', value: 'o1' }], active: true, endpoint: [{ reference: 'Endpoint/7e0c8a2d-9c55-4c8e-9a7e-3f1d2b6c4a10' }] },
    { resourceType: 'Organization', name: 'Berlin Lab', active: true, type: [{ coding: [{ system: 'http://matcher.test/type', code: 'lab' }] }] },
    // Canonicals that look like literal references to another server: matched by url, or url|version.
    { resourceType: 'QuestionnaireResponse', status: 'in-progress', questionnaire: 'https://matcher.test/fhir/Questionnaire/q1|1.0' },
    { resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire: 'https://matcher.test/fhir/Questionnaire/q1' },
  ];
  for (const r of resources) stored.push((await store.transaction((c) => store.create(c, r))).resource);
  stored.push(org);
});
after(() => site?.stop());

const CRITERIA = [
  'Task?status=requested',
  'Task?status=requested,completed',
  'Task?status:not=requested',
  'Task?identifier=http://matcher.test/task|t1',
  'Task?identifier=t2',
  'Task?identifier=http://matcher.test/task|',
  'Task?authored-on=2024-03',
  'Task?authored-on=gt2024-03-01',
  'Task?authored-on=ge2024-03-01T10:00:00Z',
  'Task?authored-on=lt2024',
  'Task?authored-on=le2024-03-01',
  'Task?authored-on=sa2024-01-01',
  'Task?authored-on=eb2024-03-02',
  'Task?authored-on=ne2024-03-02',
  'Task?authored-on=2023-12-31T23:59:59.500Z',
  'Task?status=requested&authored-on=ge2024',
  'Task?requester=Organization/ORG',
  'Task?requester=ORG',
  'Task?requester:Organization=ORG',
  'Task?requester=https://other.test/fhir/Organization/x1',
  'Task?requester:identifier=http://dsf.dev/sid/organization-identifier|matcher.test',
  'Task?requester:identifier=http://dsf.dev/sid/organization-identifier|',
  'Task?_id=TASK1',
  'Task?_lastUpdated=gt2000-01-01',
  'Task?_lastUpdated=lt2000-01-01',
  'Task',
  'Patient?active=true',
  'Patient?active=false',
  'Patient?identifier=|no-system',
  'Patient?identifier=http://matcher.test/pid|p2',
  'Patient?_profile=http://matcher.test/StructureDefinition/p|1.0',
  'Patient?_profile:below=http://matcher.test/StructureDefinition/',
  'Organization?name=zurich',
  'Organization?name=lab',
  'Organization?name:contains=lab',
  'Organization?name:exact=Berlin Lab',
  'Organization?name:exact=berlin lab',
  'Organization?type=http://matcher.test/type|lab',
  'Organization?endpoint=Endpoint/7e0c8a2d-9c55-4c8e-9a7e-3f1d2b6c4a10',
  'Organization?identifier:not=http://matcher.test/org|o1',
  'QuestionnaireResponse?questionnaire=https://matcher.test/fhir/Questionnaire/q1',
  'QuestionnaireResponse?questionnaire=https://matcher.test/fhir/Questionnaire/q1|1.0',
  'QuestionnaireResponse?questionnaire=https://matcher.test/fhir/Questionnaire/q2',
];

test('in-memory matching agrees with SQL search for every criteria', async () => {
  const org = stored.find((r) => r.resourceType === 'Organization' && (r as any).name === 'Matcher Org')!;
  const task1 = stored.find((r) => (r as any).identifier?.[0]?.value === 't1')!;
  const ids = new Set(stored.map((r) => r.id));
  let someMatched = 0;
  let someRejected = 0;
  for (const raw of CRITERIA) {
    const criteria = raw.replaceAll('ORG', org.id!).replaceAll('TASK1', task1.id!);
    const req = parseCriteria(criteria);
    const sql = await executeSearch(site.server.pool, { ...req, count: 1000 }, site.baseUrl);
    const bySql = sql.matches.map((r) => r.id!).filter((id) => ids.has(id)).sort();
    const inMemory: string[] = [];
    for (const r of stored) if (matchesCriteria(req, await matchableResource(site.server.pool, r, site.baseUrl, [req]), site.baseUrl)) inMemory.push(r.id!);
    inMemory.sort();
    assert.deepEqual(inMemory, bySql, criteria);
    if (inMemory.length) someMatched++;
    if (inMemory.length < stored.filter((r) => r.resourceType === req.resourceType).length) someRejected++;
  }
  assert.ok(someMatched > CRITERIA.length / 2 && someRejected > CRITERIA.length / 2, 'the criteria both accept and reject');
});
