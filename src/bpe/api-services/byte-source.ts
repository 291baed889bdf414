// Bytes given as a buffer or as a stream, the way the plugin API services accept them.
import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import type { ByteSource } from '../../plugin-api/services/crypto.ts';

export function isBytes(source: unknown): source is Uint8Array {
  return source instanceof Uint8Array;
}

/** A Readable for any source; buffers become a one-chunk stream. */
export function toReadable(source: ByteSource): Readable {
  if (isBytes(source)) return Readable.from([Buffer.from(source.buffer, source.byteOffset, source.byteLength)]);
  if (source instanceof Readable) return source;
  return Readable.from(source);
}

/** All bytes of a source. Only for inputs that are small by nature (PEM files, key stores). */
export async function readAll(source: ByteSource | string, limit = 16 * 1024 * 1024): Promise<Buffer> {
  if (typeof source === 'string') return Buffer.from(source, 'utf8');
  if (isBytes(source)) return Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += buffer.length;
    if (size > limit) throw new RangeError(`input larger than ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function readSmallFile(path: string): Promise<Buffer> {
  return readFile(path);
}
