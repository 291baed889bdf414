// Writes the plugins' FHIR resources to the local FHIR server (the reference's FhirResourceHandler):
// one batch of conditional creates (new resources), conditional updates (changed content or status,
// and drafts on every start) and conditional deletes (resources of excluded processes that no other
// process needs). Metadata resources get the status of their process state (active, draft, retired).
// What was written is recorded in bpe_plugin_resource, so a start with nothing changed writes nothing
// (it only checks, by search, that the recorded resources still exist).
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { FhirClient } from '../../plugin-api/index.ts';
import { TASK_IDENTIFIER_SID } from '../../plugin-api/index.ts';
import { withTransaction } from '../../db/pool.ts';
import { parseLocation, searchQuery } from '../client/http-fhir-client.ts';
import { processKey, type LoadedPlugin } from './loaded-plugin.ts';
import { STATE_PRIORITY, type ProcessState, type ProcessStateChange } from './process-states.ts';

const TYPE_ORDER = ['NamingSystem', 'CodeSystem', 'ValueSet', 'StructureDefinition', 'Library', 'Measure', 'Questionnaire', 'ActivityDefinition', 'Task'];
const STATUS: Partial<Record<ProcessState, string>> = { ACTIVE: 'active', DRAFT: 'draft', RETIRED: 'retired' };

export interface DeploymentReport {
  created: string[];
  updated: string[];
  deleted: string[];
  /** Recorded, unchanged and still present: not written. */
  unchanged: string[];
}

interface Planned {
  type: string;
  criteria: string;
  resource: Resource;
  processes: string[];
  state: ProcessState;
}

interface Recorded {
  processKey: string;
  type: string;
  criteria: string;
  resourceId: string | null;
  hash: string;
  status: string;
}

type Json = Record<string, any>;

/** The conditional criteria that identify a plugin resource (as the reference: name, identifier, url + version). */
export function criteriaOf(resource: Resource): string {
  const r = resource as Json;
  if (r.resourceType === 'NamingSystem') return searchQuery({ name: r.name });
  if (r.resourceType === 'Task') {
    const id = (r.identifier ?? []).find((i: Json) => i.system === TASK_IDENTIFIER_SID);
    return searchQuery({ identifier: `${TASK_IDENTIFIER_SID}|${id?.value ?? ''}` });
  }
  return searchQuery({ url: r.url, version: r.version });
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Json)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const hashOf = (r: Resource) => createHash('sha256').update(canonical(r)).digest('hex');
const label = (type: string, criteria: string) => `${type}?${criteria}`;

async function readRecords(pool: pg.Pool): Promise<Recorded[]> {
  const rows = (await pool.query('SELECT * FROM bpe_plugin_resource')).rows;
  return rows.map((r) => ({
    processKey: processKey(r.process_id, r.version),
    type: r.resource_type,
    criteria: r.criteria,
    resourceId: r.resource_id,
    hash: r.content_hash,
    status: r.status,
  }));
}

export async function deployResources(
  client: FhirClient,
  pool: pg.Pool,
  plugins: readonly LoadedPlugin[],
  changes: readonly ProcessStateChange[],
): Promise<DeploymentReport> {
  const records = await readRecords(pool);
  const resourcesOf = new Map<string, Resource[]>();
  for (const plugin of plugins) {
    for (const [processId, list] of plugin.resources) resourcesOf.set(processKey(processId, plugin.resourceVersion), list.map((r) => r.resource));
  }
  const stateOf = new Map(changes.map((c) => [processKey(c.processId, c.version), c] as const));

  // What should exist: every resource of a process that is not excluded, in its strongest state.
  const planned = new Map<string, Planned>();
  for (const c of changes) {
    const key = processKey(c.processId, c.version);
    const list = resourcesOf.get(key);
    if (c.newState === 'EXCLUDED' || !list) continue;
    for (const resource of list) {
      const criteria = criteriaOf(resource);
      const id = label(resource.resourceType, criteria);
      const p = planned.get(id);
      if (!p) planned.set(id, { type: resource.resourceType, criteria, resource, processes: [key], state: c.newState });
      else {
        p.processes.push(key);
        if (STATE_PRIORITY[c.newState] > STATE_PRIORITY[p.state]) p.state = c.newState;
      }
    }
  }

  // What should go: recorded resources of excluded processes, and those a draft process no longer has.
  const deletions = new Map<string, { type: string; criteria: string }>();
  for (const r of records) {
    const id = label(r.type, r.criteria);
    if (planned.has(id)) continue;
    const change = stateOf.get(r.processKey);
    if (!change || change.newState === 'EXCLUDED' || change.newState === 'DRAFT') deletions.set(id, { type: r.type, criteria: r.criteria });
  }

  // Decide per planned resource: create (unknown), update (changed or draft), or keep (checked below).
  const writes: Array<{ entry: BundleEntry; id: string; kind: 'create' | 'update' | 'delete'; planned?: Planned; hash?: string }> = [];
  const keep: Array<{ id: string; planned: Planned; hash: string }> = [];
  for (const [id, p] of planned) {
    const resource = structuredClone(p.resource) as Json;
    delete resource.id;
    if (p.type !== 'Task' && STATUS[p.state]) resource.status = STATUS[p.state];
    const hash = hashOf(resource as Resource);
    const recorded = records.filter((r) => label(r.type, r.criteria) === id);
    const known = recorded.length > 0;
    const same = known && p.state !== 'DRAFT' && p.processes.every((k) => recorded.some((r) => r.processKey === k && r.hash === hash));
    if (same) keep.push({ id, planned: p, hash });
    else writes.push({ entry: known ? updateEntry(p, resource) : createEntry(p, resource), id, kind: known ? 'update' : 'create', planned: p, hash });
  }
  // Recorded and unchanged resources must still be there; missing ones are created again.
  if (keep.length) {
    const check = await client.postBundle({
      resourceType: 'Bundle',
      type: 'batch',
      entry: keep.map((k) => ({ request: { method: 'GET', url: `${k.planned.type}?${k.planned.criteria}&_summary=count` } })),
    });
    keep.forEach((k, i) => {
      const total = (check.entry?.[i]?.resource as Bundle | undefined)?.total;
      if (total === 0) {
        const resource = structuredClone(k.planned.resource) as Json;
        delete resource.id;
        if (k.planned.type !== 'Task' && STATUS[k.planned.state]) resource.status = STATUS[k.planned.state];
        writes.push({ entry: createEntry(k.planned, resource), id: k.id, kind: 'create', planned: k.planned, hash: k.hash });
      }
    });
  }
  for (const [id, d] of deletions) writes.push({ entry: { request: { method: 'DELETE', url: `${d.type}?${d.criteria}` } }, id, kind: 'delete' });
  writes.sort((a, b) => order(a) - order(b));

  const report: DeploymentReport = { created: [], updated: [], deleted: [], unchanged: keep.filter((k) => !writes.some((w) => w.id === k.id)).map((k) => k.id) };
  const resourceIds = new Map<string, string | null>();
  for (const k of keep) resourceIds.set(k.id, records.find((r) => label(r.type, r.criteria) === k.id)?.resourceId ?? null);
  if (writes.length) {
    const response = await client.postBundle({ resourceType: 'Bundle', type: 'batch', entry: writes.map((w) => w.entry) }, { returnMinimal: true });
    const failures: string[] = [];
    writes.forEach((w, i) => {
      const status = response.entry?.[i]?.response?.status ?? '';
      const expected = w.kind === 'delete' ? ['200', '204', '404'] : w.kind === 'create' ? ['200', '201'] : ['200', '201'];
      if (!expected.some((s) => status.startsWith(s))) {
        const oo = response.entry?.[i]?.response?.outcome ?? response.entry?.[i]?.resource;
        const text = (oo as Json | undefined)?.issue?.map((x: Json) => x.diagnostics).join('; ');
        failures.push(`${w.entry.request!.method} ${w.id}: ${status || 'no status'}${text ? ` - ${text}` : ''}`);
        return;
      }
      (w.kind === 'create' ? report.created : w.kind === 'update' ? report.updated : report.deleted).push(w.id);
      const location = response.entry?.[i]?.response?.location;
      resourceIds.set(w.id, location ? parseLocation(`/${location}`).id : null);
    });
    if (failures.length) throw new Error(`Deploying process plugin resources failed:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  }

  // Record the state: rows of planned resources per process; none for excluded processes.
  const rows: Array<[string, string, string, string, string | null, string, string]> = [];
  for (const [id, p] of planned) {
    const hash = writes.find((w) => w.id === id)?.hash ?? keep.find((k) => k.id === id)!.hash;
    for (const k of p.processes) {
      const [processId, version] = k.split('|') as [string, string];
      rows.push([processId, version, p.type, p.criteria, resourceIds.get(id) ?? null, hash, STATUS[p.state] ?? p.state]);
    }
  }
  await withTransaction(pool, async (tx) => {
    const touched = changes.map((c) => processKey(c.processId, c.version));
    await tx.query("DELETE FROM bpe_plugin_resource WHERE process_id || '|' || version = ANY($1::text[])", [touched]);
    for (const r of rows) {
      await tx.query(
        'INSERT INTO bpe_plugin_resource (process_id, version, resource_type, criteria, resource_id, content_hash, status) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        r,
      );
    }
  });
  return report;
}

function createEntry(p: Planned, resource: Json): BundleEntry {
  return { resource: resource as Resource, request: { method: 'POST', url: p.type, ifNoneExist: p.criteria } };
}

function updateEntry(p: Planned, resource: Json): BundleEntry {
  return { resource: resource as Resource, request: { method: 'PUT', url: `${p.type}?${p.criteria}` } };
}

function order(w: { kind: string; planned?: Planned }): number {
  return w.kind === 'delete' ? -1 : TYPE_ORDER.indexOf(w.planned!.type);
}
