// The FHIR interactions with Binary content kept out of the resource rows: writes move `data` (base64)
// into a large object (binary-store.ts) and store the resource without it; reads put `data` back when
// the content is small enough to inline. Everything else (validation, authorization hooks, versions,
// conditional logic, bundles) is the generic Interactions', so Binary follows the same rules.
import type { Binary, Bundle, Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { FhirError } from '../../common/errors.ts';
import type { Db } from '../../db/pool.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import type { BinaryContent, BinaryStore } from '../store/binary-store.ts';
import { FhirService } from './fhir-service.ts';
import type { InteractionResult, RequestContext } from './request-context.ts';
import type { WriteHooks } from './write-hooks.ts';

export interface BinaryLimits {
  /** Largest content stored, raw or base64-decoded (413 above). */
  maxBytes: number;
  /** Largest content returned inline as base64 `data`: per single read, and in total per Bundle. */
  inlineBytes: number;
}

/** A Binary version without its data, and where its content is. */
export interface BinaryVersion {
  result: InteractionResult & { resource: Binary };
  /** Undefined when the version has no content (a Binary created without data). */
  content?: BinaryContent;
}

function isBase64(value: string): boolean {
  const compact = value.replace(/\s+/g, '');
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
}

export function contentTooLarge(maxBytes: number): FhirError {
  return new FhirError(413, `The Binary content exceeds the limit of ${maxBytes} bytes`, 'too-costly');
}

export class BinaryInteractions extends FhirService {
  constructor(
    store: ResourceStore,
    defaultPageCount: number,
    hooks: WriteHooks,
    readonly binaries: BinaryStore,
    readonly limits: BinaryLimits,
  ) {
    super(store, defaultPageCount, hooks);
  }

  /** Splits off `data` and decodes it; 400 for invalid base64, 413 above the limit. */
  private splitData(resource: Resource): { rest: Resource; data?: string; bytes?: Buffer } {
    const { data, ...rest } = resource as Binary;
    if (data === undefined) return { rest: rest as Resource };
    if (typeof data !== 'string' || !isBase64(data)) throw new FhirError(400, [{ severity: 'error', code: 'invalid', diagnostics: 'Binary.data is not valid base64', expression: ['Binary.data'] }]);
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length > this.limits.maxBytes) throw contentTooLarge(this.limits.maxBytes);
    return { rest: rest as Resource, data, bytes };
  }

  private async storeContent(client: pg.PoolClient, r: InteractionResult, source: AsyncIterable<Uint8Array> | Uint8Array): Promise<BinaryContent> {
    const content = await this.binaries.write(client, source, this.limits.maxBytes);
    await this.binaries.attach(client, r.resource!.id!, Number(r.versionId), content);
    return content;
  }

  override async create(ctx: RequestContext, client: pg.PoolClient, type: string, resource: Resource, ifNoneExist?: string, assignedId?: string): Promise<InteractionResult> {
    if (type !== 'Binary') return super.create(ctx, client, type, resource, ifNoneExist, assignedId);
    const { rest, data, bytes } = this.splitData(resource);
    const r = await super.create(ctx, client, type, rest, ifNoneExist, assignedId);
    if (r.status !== 201) return this.withInlineData(client, r); // an existing match of a conditional create
    if (!bytes) return r;
    await this.storeContent(client, r, bytes);
    return { ...r, resource: { ...r.resource!, data } as Binary };
  }

  override async update(ctx: RequestContext, client: pg.PoolClient, type: string, id: string, resource: Resource, ifMatch?: string): Promise<InteractionResult> {
    if (type !== 'Binary') return super.update(ctx, client, type, id, resource, ifMatch);
    const { rest, data, bytes } = this.splitData(resource);
    const r = await super.update(ctx, client, type, id, rest, ifMatch);
    if (!bytes) return r;
    await this.storeContent(client, r, bytes);
    return { ...r, resource: { ...r.resource!, data } as Binary };
  }

  /**
   * Raw upload: creates the Binary (validation and authorization first, before any byte is read),
   * then streams the content into a large object in the same transaction.
   */
  async createWithContent(ctx: RequestContext, client: pg.PoolClient, resource: Binary, source: AsyncIterable<Uint8Array>, ifNoneExist?: string): Promise<InteractionResult> {
    const r = await super.create(ctx, client, 'Binary', resource, ifNoneExist);
    if (r.status === 201) await this.storeContent(client, r, source);
    return r;
  }

  /** Raw upload of a new version of an existing Binary; see createWithContent. */
  async updateWithContent(ctx: RequestContext, client: pg.PoolClient, id: string, resource: Binary, source: AsyncIterable<Uint8Array>, ifMatch?: string): Promise<InteractionResult> {
    const r = await super.update(ctx, client, 'Binary', id, resource, ifMatch);
    await this.storeContent(client, r, source);
    return r;
  }

  override async read(ctx: RequestContext, db: Db, type: string, id: string): Promise<InteractionResult> {
    const r = await super.read(ctx, db, type, id);
    return type !== 'Binary' ? r : this.withInlineData(db, r);
  }

  override async vread(ctx: RequestContext, db: Db, type: string, id: string, version: string): Promise<InteractionResult> {
    const r = await super.vread(ctx, db, type, id, version);
    return type !== 'Binary' ? r : this.withInlineData(db, r);
  }

  /** Read (version given: vread) with the same checks as any read, returning where the content is instead of the content. */
  async readVersion(ctx: RequestContext, db: Db, id: string, version?: string): Promise<BinaryVersion> {
    const result = (version === undefined ? await super.read(ctx, db, 'Binary', id) : await super.vread(ctx, db, 'Binary', id, version)) as BinaryVersion['result'];
    return { result, content: await this.binaries.find(db, id, Number(result.versionId)) };
  }

  /** The resource with `data`; the caller has checked the size against the inline limit. */
  async inline(db: Db, resource: Binary, content: BinaryContent | undefined): Promise<Binary> {
    if (!content) return resource;
    return { ...resource, data: (await this.binaries.readAll(db, content)).toString('base64') };
  }

  /** Adds `data` when the content fits the inline limit; larger content is left out (fetch it raw). */
  async withInlineData(db: Db, r: InteractionResult): Promise<InteractionResult> {
    const b = r.resource as Binary | undefined;
    if (!b?.id || !b.meta?.versionId) return r;
    const content = await this.binaries.find(db, b.id, Number(b.meta.versionId));
    if (!content || content.size > this.limits.inlineBytes) return r;
    return { ...r, resource: await this.inline(db, b, content) };
  }

  override async search(ctx: RequestContext, db: Db, type: string, query: [string, string][]): Promise<InteractionResult> {
    const r = await super.search(ctx, db, type, query);
    await this.inlineInBundle(db, r.resource as Bundle | undefined);
    return r;
  }

  override async history(ctx: RequestContext, db: Db, type: string | undefined, id: string | undefined, query: [string, string][]): Promise<InteractionResult> {
    const r = await super.history(ctx, db, type, id, query);
    await this.inlineInBundle(db, r.resource as Bundle | undefined);
    return r;
  }

  /** Puts `data` into the Bundle's Binary entries in order while their total stays within the inline limit. */
  private async inlineInBundle(db: Db, bundle: Bundle | undefined): Promise<void> {
    const binaries = (bundle?.entry ?? []).map((e) => e.resource).filter((r): r is Binary => r?.resourceType === 'Binary' && !!r.id && !!r.meta?.versionId);
    if (!binaries.length) return;
    const contents = await this.binaries.findMany(db, binaries.map((b) => ({ id: b.id!, version: Number(b.meta!.versionId) })));
    let budget = this.limits.inlineBytes;
    for (const b of binaries) {
      const content = contents.get(`${b.id}/${b.meta!.versionId}`);
      if (!content || content.size > budget) continue;
      budget -= content.size;
      b.data = (await this.binaries.readAll(db, content)).toString('base64');
    }
  }
}
