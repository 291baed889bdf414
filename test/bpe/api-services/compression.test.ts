// Compression against files written by Java (java.util.zip, commons-compress, xz-java with the
// reference's settings; see test/fixtures/java-interop/generator), the reference's own expected
// sizes, round trips, streaming and damaged input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { randomBytes } from 'node:crypto';
import { CompressionFormatError } from '../../../src/plugin-api/services/compression.ts';
import { createCompressionService } from '../../../src/bpe/api-services/compression/compression-service.ts';

const DIR = join(import.meta.dirname, '../../fixtures/java-interop/compression');
const service = createCompressionService();
const HELLO = Buffer.from('Hello compression World!');

function longPlaintext(): Buffer {
  let text = '';
  for (let i = 0; text.length < 20000; i++) text += `line ${i}: the quick brown fox jumps over the lazy dog\n`;
  return Buffer.from(text.slice(0, 20000));
}

test('decompresses what Java compressed (gzip, bzip2 block sizes 1 and 9, xz presets 0 and 6)', async () => {
  const read = (name: string) => readFileSync(join(DIR, name));
  assert.deepEqual(await buffer(service.fromGzip(read('hello.gz'))), HELLO);
  assert.deepEqual(await buffer(service.fromBzip2(read('hello.bz2'))), HELLO);
  assert.deepEqual(await buffer(service.fromLzma2(read('hello.xz'))), HELLO);
  const long = longPlaintext();
  for (const name of ['long.gz']) assert.deepEqual(await buffer(service.fromGzip(read(name))), long);
  for (const name of ['long-1.bz2', 'long-9.bz2']) assert.deepEqual(await buffer(service.fromBzip2(read(name))), long);
  for (const name of ['long-0.xz', 'long-6.xz']) assert.deepEqual(await buffer(service.fromLzma2(read(name))), long);
});

test('compresses to the sizes the reference expects of its Java libraries (44, 63, 80 bytes)', async () => {
  assert.equal((await buffer(service.toGzip(HELLO))).length, 44);
  assert.equal((await buffer(service.toBzip2(HELLO))).length, 63);
  assert.equal((await buffer(service.toLzma2(HELLO))).length, 80);
});

test('round trips of text, random data, long runs and empty input at several levels', async () => {
  const inputs = [longPlaintext(), randomBytes(150_000), Buffer.alloc(250_000, 0x61), Buffer.alloc(0), Buffer.concat([randomBytes(500), Buffer.alloc(3000, 1), longPlaintext()])];
  for (const data of inputs) {
    assert.deepEqual(await buffer(service.fromGzip(service.toGzip(data))), data);
    for (const level of [1, 9]) assert.deepEqual(await buffer(service.fromBzip2(service.toBzip2(data, level))), data);
    for (const preset of [0, 6]) assert.deepEqual(await buffer(service.fromLzma2(service.toLzma2(data, preset))), data);
  }
});

test('bzip2 compression streams: output appears before the input has ended', async () => {
  let produced = 0;
  const blocks = 40; // 40 x 64 KiB of text, three bzip2 blocks at block size 1
  const text = longPlaintext();
  // Yielding to the event loop between chunks lets the consumer see output as soon as there is some.
  const source = Readable.from((async function* () {
    for (; produced < blocks; produced++) {
      await new Promise((resolve) => setImmediate(resolve));
      yield Buffer.concat([text, text, text, text.subarray(0, 65536 - 60000)]);
    }
  })());
  let firstOutputAfter = -1;
  const out: Buffer[] = [];
  for await (const chunk of service.toBzip2(source, 1)) {
    if (firstOutputAfter < 0) firstOutputAfter = produced;
    out.push(chunk as Buffer);
  }
  assert.ok(firstOutputAfter > 0 && firstOutputAfter < blocks, `first output after ${firstOutputAfter} of ${blocks} input chunks`);
  assert.equal((await buffer(service.fromBzip2(Buffer.concat(out)))).length, blocks * 65536);
});

test('damaged or foreign input ends the stream with CompressionFormatError; levels are checked', async () => {
  await assert.rejects(buffer(service.fromGzip(Buffer.from('not gzip at all'))), CompressionFormatError);
  await assert.rejects(buffer(service.fromLzma2(Buffer.from('not xz at all'))), CompressionFormatError);
  await assert.rejects(buffer(service.fromBzip2(Buffer.from('BZh9 not really bzip2'))), CompressionFormatError);
  const damaged = Buffer.from(readFileSync(join(DIR, 'long-9.bz2')));
  damaged[100]! ^= 0x10;
  await assert.rejects(buffer(service.fromBzip2(damaged)), CompressionFormatError);
  assert.throws(() => service.toBzip2(HELLO, 0), /blockSize < 1 or > 9/);
  assert.throws(() => service.toLzma2(HELLO, 10), /preset < 0 or > 9/);
});
