// What a process plugin gets as `api.compressionService`: the reference's process plugin API v2
// CompressionService (dev.dsf.bpe.v2.service.CompressionService). Every method streams: input
// is read as the returned stream is consumed, and memory use does not grow with the data.
import type { Readable } from 'node:stream';
import type { ByteSource } from './crypto.ts';

export interface CompressionService {
  /** gzip (deflate at zlib's default level 6, as java.util.zip.GZIPOutputStream). */
  toGzip(input: ByteSource): Readable;
  /** bzip2 with block size 1-9 (100k units); default 9, as the reference. */
  toBzip2(input: ByteSource, blockSize?: number): Readable;
  /** xz (LZMA2) with preset 0-9 and CRC64 check; default preset 6, as the reference (xz-java). */
  toLzma2(input: ByteSource, preset?: number): Readable;
  /** gzip, also several concatenated members. */
  fromGzip(input: ByteSource): Readable;
  /** bzip2; concatenated streams are read too (the reference stops after the first). */
  fromBzip2(input: ByteSource): Readable;
  /** xz (LZMA2), also several concatenated streams. */
  fromLzma2(input: ByteSource): Readable;
}

/** Compressed input that cannot be decompressed (damaged, truncated, another format). */
export class CompressionFormatError extends Error {
  override readonly name = 'CompressionFormatError';
}
