// batch and transaction Bundles. A transaction runs in one database transaction (all or nothing) and
// resolves urn:uuid full URLs and conditional references; a batch runs entry by entry. Entry statuses
// carry the reason phrase ("201 Created", "404 Not Found"), as the reference writes them.
import { STATUS_CODES } from 'node:http';
import type { Bundle, BundleEntry, BundleEntryResponse, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { badRequest, FhirError, outcome } from '../../common/errors.ts';
import { withWarningIssues, type FhirService } from './fhir-service.ts';
import type { InteractionResult, RequestContext, ReturnPreference } from './request-context.ts';
import { conditionalUrls, rewriteBundleUrls } from '../references/bundle-urls.ts';
import { BatchedWriteError, type WriteBatch } from '../store/write-batch.ts';
import { fhirErrorForDatabaseError, type DatabaseErrorContext } from './database-errors.ts';
import { newResourceId } from '../store/resource-ids.ts';
import type { TransactionClient } from '../../db/pool.ts';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
const ORDER: Record<Method, number> = { DELETE: 0, POST: 1, PUT: 2, GET: 3, HEAD: 3 };

interface Parsed {
  index: number;
  method: Method;
  path: string; // without query
  query: string;
  entry: BundleEntry;
}

/** "404 Not Found": the status line of a bundle entry's response. */
export function entryStatus(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

/**
 * The status of a transaction that failed in one entry, as the reference answers it: 403 stays (a
 * refusal), so do our validation status 422 (the reference refuses invalid resources with 403), 413
 * and server errors; every other failure of an entry is the client's transaction that cannot run: 400.
 */
export function transactionFailureStatus(entryStatus: number): number {
  return entryStatus === 403 || entryStatus === 422 || entryStatus === 413 || entryStatus >= 500 ? entryStatus : 400;
}

function parseEntry(entry: BundleEntry, index: number): Parsed {
  const method = entry.request?.method as Method | undefined;
  const url = entry.request?.url;
  if (!method || !['GET', 'HEAD', 'POST', 'PUT', 'DELETE'].includes(method)) throw badRequest(`Bundle.entry[${index}].request.method missing or not supported`);
  if (!url) throw badRequest(`Bundle.entry[${index}].request.url missing`);
  const rel = url.replace(/^https?:\/\/[^/]+(\/[^?]*)?\/(?=[A-Z])/, '');
  const q = rel.indexOf('?');
  return { index, method, path: q < 0 ? rel : rel.slice(0, q), query: q < 0 ? '' : rel.slice(q + 1), entry };
}

function toResponse(r: InteractionResult, prefer: ReturnPreference): BundleEntry {
  const response: BundleEntryResponse = { status: entryStatus(r.status) };
  if (r.location) response.location = r.location;
  if (r.versionId) response.etag = `W/"${r.versionId}"`;
  if (r.lastModified) response.lastModified = r.lastModified;
  if (prefer === 'OperationOutcome') response.outcome = withWarningIssues(r.outcome ?? outcome('information', 'informational', entryStatus(r.status)), r.warnings);
  else if (r.outcome && !r.resource) response.outcome = r.outcome;
  else if (r.searchWarning) response.outcome = r.searchWarning;
  const e: BundleEntry = { response };
  if (r.resource && prefer === 'representation') {
    e.resource = r.resource;
    if (r.resource.id && r.resource.resourceType !== 'Bundle') e.fullUrl = `${r.location?.replace(/\/_history\/.*$/, '') ?? ''}` || undefined;
  }
  if (!e.fullUrl) delete e.fullUrl;
  return e;
}

/**
 * As the reference answers a search entry of a batch or transaction: when it finds exactly one resource
 * (besides a warning), the entry holds that resource, not a searchset.
 */
function singleMatch(r: InteractionResult, baseUrl: string): InteractionResult {
  const entries = (r.resource as Bundle | undefined)?.entry ?? [];
  const matches = entries.filter((e) => e.search?.mode === 'match');
  const rest = entries.filter((e) => e.search?.mode !== 'match');
  const match = matches[0]?.resource;
  if (matches.length !== 1 || rest.length > 1 || rest.some((e) => e.search?.mode !== 'outcome') || !match?.id) return r;
  const versionId = match.meta?.versionId;
  return {
    status: 200,
    resource: match,
    location: `${baseUrl}/${match.resourceType}/${match.id}${versionId ? `/_history/${versionId}` : ''}`,
    versionId,
    lastModified: match.meta?.lastUpdated,
    searchWarning: rest[0]?.resource as OperationOutcome | undefined,
  };
}

function errorResponse(e: unknown, dbErrors: DatabaseErrorContext): BundleEntry {
  // A database error an entry can cause (statement timeout, deadlock, ...) answers as it would alone.
  const mapped = e instanceof FhirError ? e : fhirErrorForDatabaseError(e as Error & { code?: unknown }, dbErrors);
  const err = mapped ?? new FhirError(500, (e as Error).message ?? String(e), 'exception');
  return { response: { status: entryStatus(err.status), outcome: err.outcome } };
}

/** Replaces every reference string (and urn:uuid in urls) found in `mapping` throughout a resource. */
function rewriteReferences(value: unknown, mapping: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, mapping));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string' && mapping.has(v)) out[k] = mapping.get(v);
      else out[k] = rewriteReferences(v, mapping);
    }
    return out;
  }
  return value;
}

function collectConditionalReferences(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) collectConditionalReferences(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string' && /^[A-Z][A-Za-z]+\?/.test(v)) out.add(v);
      else collectConditionalReferences(v, out);
    }
  }
}

/** An error of one entry, its issues prefixed with the entry it came from. */
function entryError(e: Parsed, err: unknown): unknown {
  if (!(err instanceof FhirError)) return err;
  return new FhirError(
    err.status,
    (err.outcome.issue ?? []).map((i) => ({ ...i, diagnostics: `Bundle.entry[${e.index}] (${e.method} ${e.entry.request?.url}): ${i.diagnostics ?? ''}` })),
  );
}

/**
 * Sends the batch's held-back writes; a refused one fails as its own entry. With `failing` (the caller
 * is about to throw its own error) other failures of the flush give way to the caller's.
 */
async function flushHeldBack(batch: WriteBatch, failing = false): Promise<void> {
  try {
    await batch.flush();
  } catch (err) {
    if (err instanceof BatchedWriteError) throw entryError(err.label as Parsed, err.cause);
    if (!failing) throw err;
  }
}

export class BundleProcessor {
  /** `dbErrors`: what the answer to a database error of a batch entry names (the statement timeout). */
  constructor(
    private readonly service: FhirService,
    private readonly dbErrors: DatabaseErrorContext = { statementTimeoutMs: 0 },
  ) {}

  /** `pool`: where the entries' transactions take their connections (a request's view of the store's pool, its scope). */
  async process(ctx: RequestContext, bundle: Bundle, prefer: ReturnPreference, pool: pg.Pool = this.service.store.pool): Promise<Bundle> {
    if (bundle.resourceType !== 'Bundle') throw badRequest(`Expected a Bundle, got ${bundle.resourceType}`);
    if (bundle.type !== 'batch' && bundle.type !== 'transaction') throw badRequest(`Bundle.type must be batch or transaction, got '${bundle.type ?? ''}'`);
    const entries = (bundle.entry ?? []).map(parseEntry);
    if (bundle.type === 'transaction') return this.transaction(ctx, entries, prefer, pool);
    const results: BundleEntry[] = [];
    for (const e of entries) {
      try {
        const r = await this.service.store.transaction(async (client) => {
          // As in a transaction, conditional references (Type?identifier=...) must match exactly one resource.
          const mapping = new Map<string, string>();
          await this.resolveConditionalReferences(ctx, client, [e], mapping);
          const resource = e.entry.resource && mapping.size ? this.rewrite(e.entry.resource, mapping) : e.entry.resource;
          return this.execute(ctx, client, e, resource);
        }, pool);
        results.push(toResponse(r, prefer));
      } catch (err) {
        results.push(errorResponse(err, this.dbErrors));
      }
    }
    return { resourceType: 'Bundle', type: 'batch-response', entry: results };
  }

  private async transaction(ctx: RequestContext, entries: Parsed[], prefer: ReturnPreference, pool: pg.Pool): Promise<Bundle> {
    const fullUrls = new Set<string>();
    for (const e of entries) {
      if (e.entry.fullUrl) {
        if (fullUrls.has(e.entry.fullUrl)) throw badRequest(`Duplicate fullUrl '${e.entry.fullUrl}' in transaction`);
        fullUrls.add(e.entry.fullUrl);
      }
    }
    const results = new Array<BundleEntry>(entries.length);
    try {
      await this.runTransaction(ctx, entries, prefer, results, pool);
    } catch (caught) {
      const err = caught instanceof BatchedWriteError ? entryError(caught.label as Parsed, caught.cause) : caught;
      if (err instanceof FhirError && transactionFailureStatus(err.status) !== err.status) throw new FhirError(transactionFailureStatus(err.status), err.outcome, undefined, err.headers);
      throw err;
    }
    return { resourceType: 'Bundle', type: 'transaction-response', entry: results };
  }

  private async runTransaction(ctx: RequestContext, entries: Parsed[], prefer: ReturnPreference, results: BundleEntry[], pool: pg.Pool): Promise<void> {
    // Reference checks of every entry run after all entries (they may point at later ones), before commit.
    const tctx: RequestContext = { ...ctx, afterEntries: [] };
    const deferred = tctx.afterEntries!;
    const deferredBy: Parsed[] = [];
    const store = this.service.store;
    // The entries' writes are held back and sent together (store/write-batch.ts), each labelled with its entry.
    await store.transaction(async (client) => {
      const batch = store.batchOf(client)!;
      // A transaction run again (store.transaction) starts without the checks of the failed run.
      deferred.length = 0;
      deferredBy.length = 0;
      const mapping = new Map<string, string>();
      const assigned = new Map<number, string | undefined>();
      // Ids of created resources are known before any entry runs, so entries may refer to each other.
      // Conditional creates and conditional updates are resolved the same way: an existing match
      // keeps its id, no match gets a new one.
      for (const e of entries) {
        const criteria = e.method === 'POST' ? e.entry.request?.ifNoneExist : e.method === 'PUT' && e.query ? e.query : undefined;
        if (e.method !== 'POST' && criteria === undefined) continue;
        const type = e.path;
        let id: string | undefined = newResourceId();
        if (criteria) {
          const found = await this.service.conditionalMatches(tctx, client, type, criteria);
          if (found.length > 1) throw new FhirError(412, `Bundle.entry[${e.index}]: ${found.length} ${type} resources match '${criteria}'`, 'conflict');
          if (found.length === 1) id = found[0]!.id;
        }
        assigned.set(e.index, id);
        if (e.entry.fullUrl && id) mapping.set(e.entry.fullUrl, `${type}/${id}`);
      }
      await this.resolveConditionalReferences(tctx, client, entries, mapping);
      const ordered = [...entries]
        .sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index)
        .map((e) => {
          let path = e.path;
          let query = e.query;
          for (const [from, to] of mapping) {
            if (query.includes(from)) query = query.replaceAll(from, to);
            if (path === from) path = to;
          }
          return { ...e, path, query };
        });
      // The write locks and current versions of every resource updated or deleted by id, at once.
      const byId = ordered.filter((e) => (e.method === 'PUT' || e.method === 'DELETE') && !e.query).map((e) => e.path.split('/').filter(Boolean));
      await store.lockForWrite(client, byId.filter((parts) => parts.length === 2).map((parts) => parts[1]!));
      for (const e of ordered) {
        const resource = e.entry.resource ? this.rewrite(e.entry.resource, mapping) : undefined;
        const before = deferred.length;
        batch.label = e;
        try {
          const r = await this.execute(tctx, client, e, resource, assigned.get(e.index));
          results[e.index] = toResponse(r, prefer);
        } catch (err) {
          if (err instanceof BatchedWriteError) throw entryError(err.label as Parsed, err.cause);
          // A read of a missing resource is an answer, not a failure of the transaction (as the reference).
          if (err instanceof FhirError && err.status === 404 && (e.method === 'GET' || e.method === 'HEAD')) {
            results[e.index] = errorResponse(err, this.dbErrors);
            continue;
          }
          // A held-back write of an earlier entry the database refuses answers first, as when it was sent at once.
          await flushHeldBack(batch, true);
          throw entryError(e, err);
        }
        for (let k = before; k < deferred.length; k++) deferredBy[k] = e;
      }
      // Checks that read send the held-back writes first. A transaction that only writes stays one
      // statement; its clash then comes from store.transaction (see transaction()).
      for (const [k, check] of deferred.entries()) {
        try {
          await check();
        } catch (err) {
          if (err instanceof BatchedWriteError) throw entryError(err.label as Parsed, err.cause);
          await flushHeldBack(batch, true);
          throw entryError(deferredBy[k]!, err);
        }
      }
    }, pool);
  }

  /** Resolves the conditional references of the entries' resources into `mapping` (reference -> Type/id). */
  private async resolveConditionalReferences(ctx: RequestContext, client: TransactionClient, entries: Parsed[], mapping: Map<string, string>): Promise<void> {
    const conditional = new Set<string>();
    for (const e of entries) {
      collectConditionalReferences(e.entry.resource, conditional);
      if (e.entry.resource) for (const url of conditionalUrls(e.entry.resource)) conditional.add(url);
    }
    // Matched without the caller's read filter, as the reference resolves them.
    const unfiltered: RequestContext = { ...ctx, access: undefined };
    for (const ref of conditional) {
      const [type, criteria] = [ref.slice(0, ref.indexOf('?')), ref.slice(ref.indexOf('?') + 1)];
      const found = await this.service.conditionalMatches(unfiltered, client, type, criteria);
      if (found.length !== 1) {
        throw new FhirError(403, found.length ? `Found ${found.length} matches for reference target by condition '${ref}'` : `Reference target by condition '${ref}' not found`, 'processing');
      }
      mapping.set(ref, `${type}/${found[0]!.id}`);
    }
  }

  /** The resource with urn:uuid and conditional references replaced, also in RelatedArtifact and Attachment urls. */
  private rewrite(resource: Resource, mapping: Map<string, string>): Resource {
    const rewritten = rewriteReferences(resource, mapping) as Resource;
    rewriteBundleUrls(rewritten, mapping, this.service.baseUrl);
    return rewritten;
  }

  private async execute(ctx: RequestContext, client: TransactionClient, e: Parsed, resource: Resource | undefined, assignedId?: string): Promise<InteractionResult> {
    const parts = e.path.split('/').filter(Boolean);
    const i = this.service;
    const pairs = [...new URLSearchParams(e.query)];
    const needResource = () => {
      if (!resource) throw badRequest(`Bundle.entry[${e.index}] has no resource`);
      return resource;
    };
    switch (e.method) {
      case 'POST':
        if (parts.length !== 1) throw badRequest(`Bundle.entry[${e.index}]: POST url must be a resource type`);
        return i.create(ctx, client, parts[0]!, needResource(), e.entry.request?.ifNoneExist, assignedId);
      case 'PUT':
        if (parts.length === 1 && e.query) return i.conditionalUpdate(ctx, client, parts[0]!, e.query, needResource(), e.entry.request?.ifMatch, assignedId);
        if (parts.length === 2) return i.update(ctx, client, parts[0]!, parts[1]!, needResource(), e.entry.request?.ifMatch);
        throw badRequest(`Bundle.entry[${e.index}]: PUT url must be Type/id or Type?criteria`);
      case 'DELETE':
        if (parts.length === 1 && e.query) return i.conditionalDelete(ctx, client, parts[0]!, e.query);
        if (parts.length === 2) return i.delete(ctx, client, parts[0]!, parts[1]!);
        throw badRequest(`Bundle.entry[${e.index}]: DELETE url must be Type/id or Type?criteria`);
      case 'GET':
      case 'HEAD': {
        let r: InteractionResult;
        if (parts.length === 1) r = singleMatch(await i.search(ctx, client, parts[0]!, pairs), i.baseUrl);
        else if (parts.length === 2 && parts[1] === '_history') r = await i.history(ctx, client, parts[0], undefined, pairs);
        else if (parts.length === 2) r = await i.read(ctx, client, parts[0]!, parts[1]!);
        else if (parts.length === 3 && parts[2] === '_history') r = await i.history(ctx, client, parts[0], parts[1], pairs);
        else if (parts.length === 4 && parts[2] === '_history') r = await i.vread(ctx, client, parts[0]!, parts[1]!, parts[3]!);
        else throw badRequest(`Bundle.entry[${e.index}]: unsupported GET url '${e.path}'`);
        return e.method === 'HEAD' ? { ...r, resource: undefined } : r;
      }
    }
  }
}

