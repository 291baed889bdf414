// Content kept out of the resource rows, for the types whose module declares content storage (Binary):
// writes move the base64 element into a large object (store/binary-store.ts) and store the resource
// without it; reads put it back while it is small enough to inline. Everything else (validation,
// authorization, versions, conditional logic, bundles) is the generic interactions', so such types
// follow the same rules as any other.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import type { Db } from '../../db/pool.ts';
import type { BinaryContent, BinaryStore } from '../store/binary-store.ts';
import type { ContentStorage } from '../types/behaviour.ts';
import { behaviourOf } from '../types/registry.ts';
import type { InteractionResult } from './request-context.ts';
import type { TransactionClient } from '../../db/pool.ts';

export interface ContentLimits {
  /** Largest content stored, raw or base64-decoded (413 above). */
  maxBytes: number;
  /** Largest content returned inline as base64: per single read, and in total per Bundle. */
  inlineBytes: number;
}

/** A resource's content split off for storage; `data` is the base64 form, `bytes` its decoding. */
export interface SplitContent {
  rest: Resource;
  data?: string;
  bytes?: Buffer;
}

function isBase64(value: string): boolean {
  const compact = value.replace(/\s+/g, '');
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
}

export function contentTooLarge(maxBytes: number): FhirError {
  return new FhirError(413, `The content exceeds the limit of ${maxBytes} bytes`, 'too-costly');
}

/** The content storage of a type, if its module declares one. */
export const contentStorageOf = (type: string): ContentStorage | undefined => behaviourOf(type).content;

export class ContentHandling {
  constructor(
    readonly binaries: BinaryStore,
    readonly limits: ContentLimits,
  ) {}

  /** Splits off the base64 element and decodes it; 400 for invalid base64, 413 above the limit. */
  split(storage: ContentStorage, resource: Resource): SplitContent {
    const { [storage.element]: data, ...rest } = resource as Resource & Record<string, unknown>;
    if (data === undefined) return { rest: rest as Resource };
    const path = `${resource.resourceType}.${storage.element}`;
    if (typeof data !== 'string' || !isBase64(data)) throw new FhirError(400, [{ severity: 'error', code: 'invalid', diagnostics: `${path} is not valid base64`, expression: [path] }]);
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length > this.limits.maxBytes) throw contentTooLarge(this.limits.maxBytes);
    return { rest: rest as Resource, data, bytes };
  }

  /** Writes the content (bytes, or a stream of a raw upload) and links it to the version just stored. */
  async store(client: TransactionClient, stored: InteractionResult, source: AsyncIterable<Uint8Array> | Uint8Array): Promise<BinaryContent> {
    const content = await this.binaries.write(client, source, this.limits.maxBytes);
    await this.binaries.attach(client, stored.resource!.id!, Number(stored.versionId), content);
    return content;
  }

  /** Where the content of a version is; undefined when it has none. */
  find(db: Db, id: string, version: number): Promise<BinaryContent | undefined> {
    return this.binaries.find(db, id, version);
  }

  /** The resource with its content inline; the caller has checked the size against the inline limit. */
  async inline<T extends Resource>(db: Db, resource: T, content: BinaryContent | undefined): Promise<T> {
    const storage = contentStorageOf(resource.resourceType);
    if (!content || !storage) return resource;
    return { ...resource, [storage.element]: (await this.binaries.readAll(db, content)).toString('base64') };
  }

  /** Adds the content when it fits the inline limit; larger content is left out (fetch it raw). */
  async withInlineData(db: Db, r: InteractionResult): Promise<InteractionResult> {
    const resource = r.resource;
    if (!resource?.id || !resource.meta?.versionId || !contentStorageOf(resource.resourceType)) return r;
    const content = await this.binaries.find(db, resource.id, Number(resource.meta.versionId));
    if (!content || content.size > this.limits.inlineBytes) return r;
    return { ...r, resource: await this.inline(db, resource, content) };
  }

  /** Puts the content into the Bundle's entries in order while their total stays within the inline limit. */
  async inlineInBundle(db: Db, bundle: Bundle | undefined): Promise<void> {
    const withContent = (bundle?.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r?.id && !!r.meta?.versionId && !!contentStorageOf(r.resourceType));
    if (!withContent.length) return;
    const contents = await this.binaries.findMany(db, withContent.map((r) => ({ id: r.id!, version: Number(r.meta!.versionId) })));
    let budget = this.limits.inlineBytes;
    for (const r of withContent) {
      const content = contents.get(`${r.id}/${r.meta!.versionId}`);
      if (!content || content.size > budget) continue;
      budget -= content.size;
      (r as unknown as Record<string, unknown>)[contentStorageOf(r.resourceType)!.element] = (await this.binaries.readAll(db, content)).toString('base64');
    }
  }
}
