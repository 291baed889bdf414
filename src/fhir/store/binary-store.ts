// The content of Binary versions as PostgreSQL large objects: written in chunks inside the write
// transaction, read back in chunks (whole or a byte range), so no content is ever held whole in memory
// unless a caller asks for it (the base64 form). Rows of binary_content link (id, version) to an oid;
// deleting a row unlinks its large object (trigger, see schema.ts).
import type pg from 'pg';
import type { Db } from '../../db/pool.ts';
import type { TransactionClient } from '../../db/pool.ts';

export interface BinaryContent {
  oid: number;
  size: number;
}

/** The content is larger than the configured maximum; nothing of it is kept (the transaction rolls back). */
export class ContentTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The content exceeds ${maxBytes} bytes`);
  }
}

/** 256 KiB: few round trips per MiB, little memory per transfer. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

export class BinaryStore {
  constructor(
    readonly pool: pg.Pool,
    readonly chunkBytes: number = DEFAULT_CHUNK_BYTES,
  ) {}

  /**
   * Writes content into a new large object in chunks; must run inside the caller's transaction (a
   * rollback removes the object). Throws ContentTooLargeError as soon as more than maxBytes arrived.
   */
  async write(client: TransactionClient, source: AsyncIterable<Uint8Array> | Uint8Array, maxBytes: number): Promise<BinaryContent> {
    const oid = Number((await client.query('SELECT lo_create(0) AS oid')).rows[0].oid);
    let size = 0;
    const flush = async (parts: Uint8Array[], length: number) => {
      if (length === 0) return;
      await client.query('SELECT lo_put($1::oid, $2::bigint, $3::bytea)', [oid, size, Buffer.concat(parts, length)]);
      size += length;
    };
    if (source instanceof Uint8Array) {
      if (source.length > maxBytes) throw new ContentTooLargeError(maxBytes);
      for (let at = 0; at < source.length; at += this.chunkBytes) await flush([source.subarray(at, at + this.chunkBytes)], Math.min(this.chunkBytes, source.length - at));
      return { oid, size };
    }
    let parts: Uint8Array[] = [];
    let pending = 0;
    for await (const chunk of source) {
      if (size + pending + chunk.length > maxBytes) throw new ContentTooLargeError(maxBytes);
      parts.push(chunk);
      pending += chunk.length;
      if (pending >= this.chunkBytes) {
        await flush(parts, pending);
        parts = [];
        pending = 0;
      }
    }
    await flush(parts, pending);
    return { oid, size };
  }

  /** Links content to a stored version (same transaction as the version's row). */
  async attach(client: TransactionClient, id: string, version: number, content: BinaryContent): Promise<void> {
    await client.query('INSERT INTO binary_content (resource_id, version, oid, size) VALUES ($1, $2, $3, $4)', [id, version, content.oid, content.size]);
  }

  /** The content of one version; undefined when the version has none (a Binary without data). */
  async find(db: Db, id: string, version: number): Promise<BinaryContent | undefined> {
    const row = (await db.query('SELECT oid, size FROM binary_content WHERE resource_id = $1 AND version = $2', [id, version])).rows[0];
    return row ? { oid: Number(row.oid), size: Number(row.size) } : undefined;
  }

  /** The content of several versions at once, keyed `${id}/${version}`. */
  async findMany(db: Db, keys: { id: string; version: number }[]): Promise<Map<string, BinaryContent>> {
    const out = new Map<string, BinaryContent>();
    if (!keys.length) return out;
    const res = await db.query(
      'SELECT resource_id, version, oid, size FROM binary_content WHERE (resource_id, version) IN (SELECT * FROM unnest($1::uuid[], $2::int[]))',
      [keys.map((k) => k.id), keys.map((k) => k.version)],
    );
    for (const r of res.rows) out.set(`${r.resource_id}/${r.version}`, { oid: Number(r.oid), size: Number(r.size) });
    return out;
  }

  /**
   * Yields bytes [start, end) in chunks. Each chunk is its own short query on the pool, so a slow
   * reader holds no connection; a consumer that stops pulling stops the reads (back-pressure).
   */
  async *read(content: BinaryContent, start = 0, end = content.size, db: Db = this.pool): AsyncGenerator<Buffer> {
    for (let at = start; at < end; ) {
      const length = Math.min(this.chunkBytes, end - at);
      // Text format (hex, parsed by pg into a Buffer): pg 8 decodes binary-format columns as UTF-8 text.
      const res = await db.query('SELECT lo_get($1::oid, $2::bigint, $3::int) AS chunk', [content.oid, at, length]);
      const chunk = res.rows[0]?.chunk as Buffer | undefined;
      if (!chunk || chunk.length === 0) throw new Error(`Large object ${content.oid} ended at ${at} of ${content.size} bytes`);
      at += chunk.length;
      yield chunk;
    }
  }

  /** The whole content in memory, for the base64 form; callers bound the size first. */
  async readAll(db: Db, content: BinaryContent): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.read(content, 0, content.size, db)) parts.push(chunk);
    return Buffer.concat(parts, content.size);
  }
}
