// The FHIR interactions (create, read, update, delete, search, history, conditional variants),
// independent of HTTP so that single requests, batch/transaction entries and operations share one
// implementation. Types with content storage (types/behaviour.ts) keep their content out of the
// resource rows (content.ts); the interactions are the same for them.
import type { Bundle, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { badRequest, FhirError, methodNotAllowed, notFound, outcome, preconditionFailed } from '../../common/errors.ts';
import type { Db } from '../../db/pool.ts';
import { spreadWith } from '../../common/spread-with.ts';
import { ResourceStore } from '../store/resource-store.ts';
import { executeSearch, type ResourceText, type SearchResult } from '../store/search-query.ts';
import { lockForTransaction } from '../store/resource-lookups.ts';
import { parseSearchRequest, type SearchRequest } from '../search/search-request.ts';
import { SearchRequestMemo } from '../search/search-request-memo.ts';
import { isServedResourceType } from '../model/resource-types.ts';
import { searchsetBundle, searchsetJson, historyBundle } from './result-bundles.ts';
import type { InteractionResult, RequestContext } from './request-context.ts';
import type { WriteHooks } from './write-hooks.ts';
import { cleanForOutput, cleanLiteralReferences, ReferenceCleaningWatch } from '../references/reference-cleaner.ts';
import { compactJsonbText } from '../store/jsonb-text.ts';
import { rememberStoredVersion } from '../types/stored-version.ts';
import type { BinaryContent } from '../store/binary-store.ts';
import { contentStorageOf, type ContentHandling } from './content.ts';
import type { TransactionClient } from '../../db/pool.ts';

function withWarnings(result: InteractionResult, notes: OperationOutcomeIssue[]): InteractionResult {
  // Not `{ ...result, warnings }`: V8 builds a spread followed by a new key on a slow path (common/spread-with.ts).
  return notes.length ? spreadWith(result, { warnings: notes }) : result;
}

/** The OperationOutcome told for a write, followed by the write's validation warnings. */
export function withWarningIssues(told: OperationOutcome, warnings?: OperationOutcomeIssue[]): OperationOutcome {
  return warnings?.length ? { ...told, issue: [...(told.issue ?? []), ...warnings] } : told;
}

export function assertType(type: string): void {
  if (!isServedResourceType(type)) throw new FhirError(404, `Resource type '${type}' is not supported`, 'not-supported');
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function isFhirId(id: string): boolean {
  return FHIR_ID.test(id);
}

function queryPairs(query: string): [string, string][] {
  return [...new URLSearchParams(query)];
}

/** A version of a resource with content storage, without its content inline, and where its content is. */
export interface ContentVersion<T extends Resource = Resource> {
  result: InteractionResult & { resource: T };
  /** Undefined when the version has no content. */
  content?: BinaryContent;
}

/** Limits of searches (server configuration, see config.ts); none unless set. */
export interface SearchLimits {
  maxParameters?: number;
  maxValues?: number;
  maxPageBytes?: number;
}

export class FhirService {
  /** Set by the server from its configuration. */
  searchLimits: SearchLimits = {};
  /** Parsed search requests by query, for the limits they were parsed under (searchLimits may be replaced). */
  private requests?: { maxParameters?: number; maxValues?: number; memo: SearchRequestMemo };

  constructor(
    readonly store: ResourceStore,
    /** Where content of types with content storage goes. */
    readonly content: ContentHandling,
    readonly defaultPageCount: number,
    readonly hooks: WriteHooks = {},
  ) {}

  get baseUrl(): string {
    return this.store.baseUrl;
  }

  private url(type: string, id: string, version?: number | string): string {
    return `${this.baseUrl}/${type}/${id}${version !== undefined ? `/_history/${version}` : ''}`;
  }

  /** Results carry what readers see: references with an identifier without their stored literal part. */
  private stored(status: number, s: { type: string; id: string; version: number; lastUpdated: string; resource?: Resource }, withLocation: boolean): InteractionResult {
    return {
      status,
      resource: s.resource && cleanLiteralReferences(s.resource),
      versionId: String(s.version),
      lastModified: s.lastUpdated,
      location: withLocation ? this.url(s.type, s.id, s.version) : undefined,
    };
  }

  /** Read (version given: vread), content left where it is. */
  private async readVersion(ctx: RequestContext, db: Db, type: string, id: string, version?: string): Promise<InteractionResult> {
    assertType(type);
    await this.hooks.authorize?.(ctx, 'read', type);
    const r = version === undefined ? await this.store.read(db, type, id, ctx.access) : await this.store.vread(db, type, id, Number(version), ctx.access);
    if (!r.readable) throw notReadable(r);
    return this.stored(200, r, false);
  }

  async read(ctx: RequestContext, db: Db, type: string, id: string): Promise<InteractionResult> {
    return this.content.withInlineData(db, await this.readVersion(ctx, db, type, id));
  }

  async vread(ctx: RequestContext, db: Db, type: string, id: string, version: string): Promise<InteractionResult> {
    return this.content.withInlineData(db, await this.readVersion(ctx, db, type, id, version));
  }

  /**
   * Read (version given: vread) answering in JSON: `json` is the text JSON.stringify would give of what
   * read() and vread() answer, taken from the stored text without parsing it; where that could give a
   * different text (see compactJsonbText, ReferenceCleaningWatch) or the type keeps content apart,
   * `json` is undefined and `resource` holds what read() and vread() answer. Same checks and errors.
   */
  async readJson(ctx: RequestContext, db: Db, type: string, id: string, version?: string): Promise<InteractionResult & { json?: string }> {
    if (contentStorageOf(type)) return version === undefined ? this.read(ctx, db, type, id) : this.vread(ctx, db, type, id, version);
    assertType(type);
    await this.hooks.authorize?.(ctx, 'read', type);
    const r = await this.store.readText(db, type, id, version === undefined ? undefined : Number(version), ctx.access);
    if (!r.readable) throw notReadable(r);
    const cleaning = new ReferenceCleaningWatch();
    const json = compactJsonbText(r.text, cleaning);
    if (json !== undefined && !cleaning.mayChange) return { status: 200, versionId: String(r.version), lastModified: r.lastUpdated, json };
    return this.stored(200, { ...r, resource: JSON.parse(r.text) as Resource }, false);
  }

  /** Read (version given: vread) of a type with content storage, with the same checks as any read, returning where the content is instead of the content. */
  async readWithContent(ctx: RequestContext, db: Db, type: string, id: string, version?: string): Promise<ContentVersion> {
    const result = (await this.readVersion(ctx, db, type, id, version)) as ContentVersion['result'];
    return { result, content: await this.content.find(db, id, Number(result.versionId)) };
  }

  async create(ctx: RequestContext, client: TransactionClient, type: string, resource: Resource, ifNoneExist?: string, assignedId?: string): Promise<InteractionResult> {
    const storage = contentStorageOf(type);
    if (!storage) return this.createVersion(ctx, client, type, resource, ifNoneExist, assignedId);
    const { rest, data, bytes } = this.content.split(storage, resource);
    const r = await this.createVersion(ctx, client, type, rest, ifNoneExist, assignedId);
    if (r.status !== 201) return this.content.withInlineData(client, r); // an existing match of a conditional create
    if (!bytes) return r;
    await this.content.store(client, r, bytes);
    return { ...r, resource: { ...r.resource!, [storage.element]: data } as Resource };
  }

  /**
   * Raw upload: creates the resource (validation and authorization first, before any byte is read),
   * then streams the content into storage in the same transaction.
   */
  async createWithContent(ctx: RequestContext, client: TransactionClient, type: string, resource: Resource, source: AsyncIterable<Uint8Array>, ifNoneExist?: string): Promise<InteractionResult> {
    const r = await this.createVersion(ctx, client, type, resource, ifNoneExist);
    if (r.status === 201) await this.content.store(client, r, source);
    return r;
  }

  private async createVersion(ctx: RequestContext, client: TransactionClient, type: string, resource: Resource, ifNoneExist?: string, assignedId?: string): Promise<InteractionResult> {
    assertType(type);
    if (resource.resourceType !== type) throw badRequest(`Resource type '${resource.resourceType}' in the body does not match '${type}' in the URL`);
    await this.hooks.authorize?.(ctx, 'create', type);
    if (ifNoneExist !== undefined) {
      const existing = await this.conditionalMatches(ctx, client, type, ifNoneExist);
      if (existing.length > 1) throw preconditionFailed(`${existing.length} ${type} resources match '${ifNoneExist}'`);
      if (existing.length === 1) {
        const e = existing[0]!;
        return {
          status: 200,
          resource: cleanLiteralReferences(e),
          versionId: e.meta?.versionId,
          lastModified: e.meta?.lastUpdated,
          location: this.url(type, e.id!, e.meta?.versionId),
          outcome: outcome('information', 'duplicate', `A ${type} matching '${ifNoneExist}' exists already; nothing was created`),
        };
      }
    }
    const notes: OperationOutcomeIssue[] = [];
    const prepared = this.hooks.beforeWrite ? await this.hooks.beforeWrite(ctx, client, resource, undefined, notes) : resource;
    const s = await this.store.create(client, prepared, assignedId);
    await this.hooks.afterWrite?.(ctx, client, s.resource);
    return withWarnings(this.stored(201, s, true), notes);
  }

  async update(ctx: RequestContext, client: TransactionClient, type: string, id: string, resource: Resource, ifMatch?: string): Promise<InteractionResult> {
    const storage = contentStorageOf(type);
    if (!storage) return this.updateVersion(ctx, client, type, id, resource, ifMatch);
    const { rest, data, bytes } = this.content.split(storage, resource);
    const r = await this.updateVersion(ctx, client, type, id, rest, ifMatch);
    if (!bytes) return r;
    await this.content.store(client, r, bytes);
    return { ...r, resource: { ...r.resource!, [storage.element]: data } as Resource };
  }

  /** Raw upload of a new version of an existing resource; see createWithContent. */
  async updateWithContent(ctx: RequestContext, client: TransactionClient, type: string, id: string, resource: Resource, source: AsyncIterable<Uint8Array>, ifMatch?: string): Promise<InteractionResult> {
    const r = await this.updateVersion(ctx, client, type, id, resource, ifMatch);
    await this.content.store(client, r, source);
    return r;
  }

  private async updateVersion(ctx: RequestContext, client: TransactionClient, type: string, id: string, resource: Resource, ifMatch?: string): Promise<InteractionResult> {
    assertType(type);
    if (!isFhirId(id)) throw badRequest(`'${id}' is not a valid FHIR id (1 to 64 letters, digits, '-' and '.')`);
    if (resource.resourceType !== type) throw badRequest(`Resource type '${resource.resourceType}' in the body does not match '${type}' in the URL`);
    if (resource.id === undefined) throw badRequest('The resource in an update must have an id');
    if (resource.id !== id) throw badRequest(`Resource id '${resource.id}' in the body does not match '${id}' in the URL`);
    await this.hooks.authorize?.(ctx, 'update', type);
    const expected = ifMatch !== undefined ? parseETag(ifMatch) : undefined;
    const cur = await this.store.readCurrent(client, type, id, true);
    if (!cur) throw methodNotAllowed(`${type}/${id} does not exist; update as create is not allowed`);
    // Rules compare against what a reader sees: the stored version without literals resolved from identifiers.
    const existing = cur.resource && rememberStoredVersion(cleanLiteralReferences(cur.resource), cur.resource);
    const notes: OperationOutcomeIssue[] = [];
    const prepared = this.hooks.beforeWrite ? await this.hooks.beforeWrite(ctx, client, resource, existing, notes) : resource;
    // Content kept outside the row cannot be compared: every update of such a type writes a version.
    const { stored, changed } = await this.store.update(client, prepared as Resource & { id: string }, expected, contentStorageOf(type) !== undefined, cur);
    if (changed) await this.hooks.afterWrite?.(ctx, client, stored.resource, cur.deleted ? undefined : existing);
    return withWarnings(this.stored(200, stored, true), notes);
  }

  /** assignedId: the id a transaction reserved for this entry in case nothing matches. */
  async conditionalUpdate(ctx: RequestContext, client: TransactionClient, type: string, criteria: string, resource: Resource, ifMatch?: string, assignedId?: string): Promise<InteractionResult> {
    assertType(type);
    const matches = await this.conditionalMatches(ctx, client, type, criteria);
    if (matches.length > 1) throw preconditionFailed(`${matches.length} ${type} resources match '${criteria}'`);
    if (matches.length === 0) {
      if (resource.id && resource.id !== assignedId) throw methodNotAllowed(`No ${type} matches '${criteria}' and the resource has an id; update as create is not allowed`);
      const { id: _id, ...rest } = resource;
      return this.create(ctx, client, type, rest as Resource, undefined, assignedId);
    }
    const match = matches[0]!;
    if (resource.id && resource.id !== match.id) throw badRequest(`Resource id '${resource.id}' does not match the id '${match.id}' of the resource found by '${criteria}'`);
    return this.update(ctx, client, type, match.id!, { ...resource, id: match.id! }, ifMatch);
  }

  async delete(ctx: RequestContext, client: TransactionClient, type: string, id: string): Promise<InteractionResult> {
    assertType(type);
    await this.hooks.authorize?.(ctx, 'delete', type);
    const cur = await this.store.readCurrent(client, type, id, true);
    if (!cur) throw new FhirError(404, `${type}/${id} not found`, 'not-found');
    if (!cur.deleted && this.hooks.beforeDelete) await this.hooks.beforeDelete(ctx, client, cur.resource!);
    const marker = await this.store.delete(client, type, id, cur);
    if (marker) await this.hooks.afterDelete?.(ctx, client, cur.resource!);
    return {
      status: 200,
      outcome: outcome('information', 'informational', marker ? `${type}/${id} deleted` : `${type}/${id} was already deleted`),
      versionId: marker ? String(marker.version) : undefined,
    };
  }

  async conditionalDelete(ctx: RequestContext, client: TransactionClient, type: string, criteria: string): Promise<InteractionResult> {
    assertType(type);
    await this.hooks.authorize?.(ctx, 'delete', type);
    const matches = await this.conditionalMatches(ctx, client, type, criteria);
    if (matches.length > 1) throw preconditionFailed(`${matches.length} ${type} resources match '${criteria}'`);
    if (matches.length === 0) return { status: 204 };
    return this.delete(ctx, client, type, matches[0]!.id!);
  }

  async permanentDelete(ctx: RequestContext, client: TransactionClient, type: string, id: string): Promise<InteractionResult> {
    assertType(type);
    await this.hooks.authorize?.(ctx, 'permanent-delete', type);
    await this.store.permanentDelete(client, type, id);
    return { status: 200, outcome: outcome('information', 'informational', `${type}/${id} permanently deleted`) };
  }

  async search(ctx: RequestContext, db: Db, type: string, query: [string, string][]): Promise<InteractionResult> {
    const { req, result } = await this.runSearch(ctx, db, type, query, false);
    return this.searchsetResult(db, req, result);
  }

  /**
   * Search answering in JSON: `json` is the text JSON.stringify would give of the Bundle search()
   * answers, written from the stored texts of its resources without parsing them (searchsetJson); where
   * that could differ, `json` is undefined and `resource` holds what search() answers. Same checks and errors.
   */
  async searchJson(ctx: RequestContext, db: Db, type: string, query: [string, string][]): Promise<InteractionResult & { json?: string }> {
    const { req, result } = await this.runSearch(ctx, db, type, query, true);
    const json = searchsetJson(this.baseUrl, req, result);
    if (json !== undefined) return { status: 200, json };
    const parse = (r: ResourceText) => JSON.parse(r.text) as Resource;
    return this.searchsetResult(db, req, { ...result, matches: result.matches.map(parse), included: result.included.map(parse) });
  }

  private async runSearch(ctx: RequestContext, db: Db, type: string, query: [string, string][], asText: false): Promise<{ req: SearchRequest; result: SearchResult }>;
  private async runSearch(ctx: RequestContext, db: Db, type: string, query: [string, string][], asText: true): Promise<{ req: SearchRequest; result: SearchResult<ResourceText> }>;
  private async runSearch(ctx: RequestContext, db: Db, type: string, query: [string, string][], asText: boolean): Promise<{ req: SearchRequest; result: SearchResult<Resource | ResourceText> }> {
    assertType(type);
    await this.hooks.authorize?.(ctx, 'search', type);
    const req = this.requestMemo().parse(type, query, ctx.strict);
    const runner = this.store.searchRunner(db, ctx.access);
    // Each form's options as a literal of its own, not `{ ...opts, asText: true }` (V8's slow spread).
    const maxPageBytes = this.searchLimits.maxPageBytes;
    const result = asText ? await executeSearch(runner, req, this.baseUrl, ctx.access, { maxPageBytes, asText: true }) : await executeSearch(runner, req, this.baseUrl, ctx.access, { maxPageBytes });
    return { req, result };
  }

  private requestMemo(): SearchRequestMemo {
    const { maxParameters, maxValues } = this.searchLimits;
    if (!this.requests || this.requests.maxParameters !== maxParameters || this.requests.maxValues !== maxValues) {
      this.requests = { maxParameters, maxValues, memo: new SearchRequestMemo({ defaultCount: this.defaultPageCount, maxParameters, maxValues }) };
    }
    return this.requests.memo;
  }

  private async searchsetResult(db: Db, req: SearchRequest, result: SearchResult): Promise<InteractionResult> {
    const bundle = cleanForOutput(searchsetBundle(this.baseUrl, req, result));
    await this.content.inlineInBundle(db, bundle);
    return { status: 200, resource: bundle };
  }

  async history(ctx: RequestContext, db: Db, type: string | undefined, id: string | undefined, query: [string, string][]): Promise<InteractionResult> {
    if (type) assertType(type);
    await this.hooks.authorize?.(ctx, 'history', type);
    const params = new Map(query);
    const count = Math.min(intParam(params, '_count', this.defaultPageCount, 0), 1000);
    const page = intParam(params, '_page', 1, 1);
    // _offset: in the links of a page that ended early at its byte bound.
    const offset = params.has('_offset') ? intParam(params, '_offset', 0, 0) : (page - 1) * count;
    const since = dateParam(params, '_since');
    const at = dateParam(params, '_at');
    const h = await this.store.history(db, { type, id, since, at, count, offset, access: ctx.access, maxBytes: this.searchLimits.maxPageBytes });
    // 404 for an unknown id. Never 403: as the reference, the history holds the versions the caller may
    // read (each judged by its own content), possibly none; a deleted resource's history stays readable.
    if (!h.exists) throw notFound(`${type}/${id} not found`);
    const path = [type, id, '_history'].filter(Boolean).join('/');
    const bundle: Bundle = cleanForOutput(historyBundle(this.baseUrl, path, query, offset, count, h.total, h.entries));
    await this.content.inlineInBundle(db, bundle);
    return { status: 200, resource: bundle };
  }

  /** Current resources matching conditional criteria ("identifier=a|b"); serialised per criteria. */
  async conditionalMatches(ctx: RequestContext, client: TransactionClient, type: string, criteria: string): Promise<Resource[]> {
    const pairs = queryPairs(criteria.replace(/^\?/, '').replace(new RegExp(`^${type}\\?`), ''));
    if (!pairs.length) throw badRequest(`Empty conditional criteria for ${type}`);
    const req: SearchRequest = parseSearchRequest(type, pairs, { strict: true, defaultCount: 2, maxParameters: this.searchLimits.maxParameters, maxValues: this.searchLimits.maxValues });
    // Two concurrent conditional writes with the same criteria must not both create.
    await lockForTransaction(client, `${type}?${pairs.map(([k, v]) => `${k}=${v}`).sort().join('&')}`);
    // Only what the caller may read can match: a conditional write must not reveal other resources.
    const res = await executeSearch(client, { ...req, count: 2, page: 1, include: [], revinclude: [] }, this.baseUrl, ctx.access, { total: false });
    return res.matches;
  }
}

/** 403 for a resource the caller may not read (the reference answers 403, not 404). */
function notReadable(s: { type: string; id: string }): FhirError {
  return new FhirError(403, `Not allowed to read ${s.type}/${s.id}`, 'forbidden');
}

function intParam(params: Map<string, string>, name: string, fallback: number, min: number): number {
  const v = params.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw badRequest(`${name} must be an integer from ${min} to ${Number.MAX_SAFE_INTEGER}, got '${v}'`);
  return n;
}

function dateParam(params: Map<string, string>, name: string): Date | undefined {
  const v = params.get(name);
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) throw badRequest(`${name} must be a FHIR instant, got '${v}'`);
  return d;
}

/** W/"3" or "3" -> 3 */
export function parseETag(value: string): number {
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(value.trim());
  if (!m) throw badRequest(`Malformed ETag '${value}'`);
  return Number(m[1]);
}

