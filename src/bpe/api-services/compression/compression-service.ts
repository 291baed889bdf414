// The plugin API's CompressionService (reference: dev.dsf.bpe.v2.service.CompressionServiceImpl):
// gzip through Node's zlib, xz through liblzma (lzma-native), bzip2 compressed by our own encoder
// and decompressed by unbzip2-stream. Errors of the input stream and of the codec reach the
// returned stream; codec errors become CompressionFormatError.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import lzma from 'lzma-native';
import unbzip2 from 'unbzip2-stream';
import { CompressionFormatError, type CompressionService } from '../../../plugin-api/services/compression.ts';
import type { ByteSource } from '../../../plugin-api/services/crypto.ts';
import { toReadable } from '../byte-source.ts';
import { createBzip2Compressor } from './bzip2-encoder.ts';

type Codec = NodeJS.ReadWriteStream;

/** source -> codec -> returned stream, errors passed along, the source released on early close. */
function through(source: ByteSource, codec: Codec, format: string, decompressing: boolean): Readable {
  const input = toReadable(source);
  const output = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      callback(null, chunk);
    },
  });
  input.on('error', (e) => output.destroy(e));
  codec.on('error', (e: Error) => {
    output.destroy(decompressing ? new CompressionFormatError(`${format} data not readable: ${e.message}`) : e);
  });
  output.on('close', () => {
    if (!input.readableEnded) input.destroy();
  });
  input.pipe(codec).pipe(output);
  return output;
}

/** unbzip2-stream is an old-style stream: wrap it so it behaves like a Transform. */
function bzip2Decompressor(): Codec {
  const inner = unbzip2() as unknown as NodeJS.ReadWriteStream;
  const outer = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        inner.write(chunk);
        callback();
      } catch (e) {
        callback(e as Error);
      }
    },
    flush(callback: TransformCallback) {
      inner.once('end', () => callback());
      inner.end();
    },
  });
  inner.on('data', (data: Buffer) => outer.push(data));
  inner.on('error', (e: Error) => outer.destroy(e));
  return outer;
}

function checkRange(name: string, value: number, low: number, high: number): void {
  if (!Number.isInteger(value) || value < low || value > high) throw new RangeError(`${name} < ${low} or > ${high}`);
}

export function createCompressionService(): CompressionService {
  return {
    toGzip: (input) => through(input, createGzip(), 'gzip', false),
    toBzip2(input, blockSize = 9) {
      checkRange('blockSize', blockSize, 1, 9);
      return through(input, createBzip2Compressor(blockSize), 'bzip2', false);
    },
    toLzma2(input, preset = 6) {
      checkRange('preset', preset, 0, 9);
      return through(input, lzma.createCompressor({ preset, check: lzma.CHECK_CRC64 }), 'xz', false);
    },
    fromGzip: (input) => through(input, createGunzip(), 'gzip', true),
    fromBzip2: (input) => through(input, bzip2Decompressor(), 'bzip2', true),
    fromLzma2: (input) => through(input, lzma.createDecompressor(), 'xz', true),
  };
}
