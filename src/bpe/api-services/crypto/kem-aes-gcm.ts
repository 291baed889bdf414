// Encryption with a KEM-made AES-256-GCM key in the reference's layout (crypto-utils'
// AbstractKemAesGcm): [encapsulation length, 2 bytes big-endian] [encapsulation] [IV, 12 bytes]
// [ciphertext] [GCM tag, 16 bytes]. Streams are processed chunk by chunk: the decrypting side keeps
// only the header and the last 16 bytes (the would-be tag) back, so memory stays bounded however
// long the stream (unlike a JDK CipherInputStream in GCM mode, which buffers everything).
import { createCipheriv, createDecipheriv, randomBytes, type DecipherGCM, type KeyObject } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { DecryptionError, type Kem } from '../../../plugin-api/services/crypto.ts';
import { isBytes, toReadable } from '../byte-source.ts';
import type { KeyEncapsulation } from './key-encapsulation.ts';

const AES_KEY_LENGTH = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const LENGTH_BYTES = 2;
/** The reference writes the length as a Java short: more is an error on both sides. */
const MAX_ENCAPSULATION = 0x7fff;
const CIPHER = 'aes-256-gcm';

function checkKey(mechanism: KeyEncapsulation, key: KeyObject, expected: 'public' | 'private'): void {
  if (!key || typeof key !== 'object' || typeof (key as KeyObject).type !== 'string') throw new TypeError(`${expected} key required`);
  if (key.type !== expected) throw new TypeError(`${expected} key required, got a ${key.type} key`);
  const why = mechanism.unsupported(key);
  if (why) throw new TypeError(why);
}

function header(mechanism: KeyEncapsulation, publicKey: KeyObject): { header: Buffer; key: Buffer; iv: Buffer } {
  const { key, encapsulation } = mechanism.encapsulate(publicKey, AES_KEY_LENGTH);
  if (encapsulation.length > MAX_ENCAPSULATION) throw new RangeError(`encapsulation longer than ${MAX_ENCAPSULATION} bytes`);
  const iv = randomBytes(IV_LENGTH);
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt16BE(encapsulation.length);
  return { header: Buffer.concat([length, encapsulation, iv]), key, iv };
}

function encryptBytes(mechanism: KeyEncapsulation, data: Uint8Array, publicKey: KeyObject): Buffer {
  checkKey(mechanism, publicKey, 'public');
  const h = header(mechanism, publicKey);
  const cipher = createCipheriv(CIPHER, h.key, h.iv, { authTagLength: TAG_LENGTH });
  return Buffer.concat([h.header, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
}

function encryptStream(mechanism: KeyEncapsulation, data: Readable | AsyncIterable<Uint8Array>, publicKey: KeyObject): Readable {
  checkKey(mechanism, publicKey, 'public');
  const h = header(mechanism, publicKey);
  const cipher = createCipheriv(CIPHER, h.key, h.iv, { authTagLength: TAG_LENGTH });
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      callback(null, cipher.update(chunk));
    },
    flush(callback: TransformCallback) {
      this.push(cipher.final());
      callback(null, cipher.getAuthTag());
    },
  });
  transform.push(h.header);
  return pipeInto(toReadable(data), transform);
}

/** Parses the header as bytes arrive; afterwards holds back the last TAG_LENGTH bytes. */
class DecryptingTransform extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private decipher: DecipherGCM | undefined;

  constructor(
    private readonly mechanism: KeyEncapsulation,
    private readonly privateKey: KeyObject,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      if (!this.decipher && !this.readHeader()) return callback();
      if (this.pending.length > TAG_LENGTH) {
        const body = this.pending.subarray(0, this.pending.length - TAG_LENGTH);
        this.pending = Buffer.from(this.pending.subarray(this.pending.length - TAG_LENGTH));
        return callback(null, this.decipher!.update(body));
      }
      callback();
    } catch (e) {
      callback(asDecryptionError(e));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.decipher && !this.readHeader()) throw new DecryptionError('encrypted data ends inside its header');
      if (this.pending.length < TAG_LENGTH) throw new DecryptionError('encrypted data ends before its authentication tag');
      this.decipher!.setAuthTag(this.pending);
      callback(null, this.decipher!.final());
    } catch (e) {
      callback(asDecryptionError(e));
    }
  }

  /** True once the header is complete and the decipher is set up. */
  private readHeader(): boolean {
    if (this.pending.length < LENGTH_BYTES) return false;
    const length = this.pending.readUInt16BE(0);
    if (length > MAX_ENCAPSULATION || length === 0) throw new DecryptionError(`invalid encapsulation length ${length}`);
    const end = LENGTH_BYTES + length + IV_LENGTH;
    if (this.pending.length < end) return false;
    const encapsulation = this.pending.subarray(LENGTH_BYTES, LENGTH_BYTES + length);
    const iv = this.pending.subarray(LENGTH_BYTES + length, end);
    const key = this.mechanism.decapsulate(this.privateKey, Buffer.from(encapsulation), AES_KEY_LENGTH);
    this.decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: TAG_LENGTH });
    this.pending = this.pending.subarray(end);
    return true;
  }
}

function asDecryptionError(e: unknown): Error {
  if (e instanceof DecryptionError || e instanceof TypeError) return e;
  const message = (e as Error).message ?? String(e);
  // OpenSSL's words for a tag mismatch.
  if (/unable to authenticate|auth/i.test(message)) return new DecryptionError('authentication tag does not match: data altered or not encrypted for this key');
  return new DecryptionError(message);
}

function decryptBytes(mechanism: KeyEncapsulation, encrypted: Uint8Array, privateKey: KeyObject): Buffer {
  checkKey(mechanism, privateKey, 'private');
  const data = Buffer.from(encrypted.buffer, encrypted.byteOffset, encrypted.byteLength);
  if (data.length < LENGTH_BYTES) throw new DecryptionError('encrypted data ends inside its header');
  const length = data.readUInt16BE(0);
  if (length > MAX_ENCAPSULATION || length === 0) throw new DecryptionError(`invalid encapsulation length ${length}`);
  const bodyStart = LENGTH_BYTES + length + IV_LENGTH;
  if (data.length < bodyStart) throw new DecryptionError('encrypted data ends inside its header');
  if (data.length < bodyStart + TAG_LENGTH) throw new DecryptionError('encrypted data ends before its authentication tag');
  const key = mechanism.decapsulate(privateKey, Buffer.from(data.subarray(LENGTH_BYTES, LENGTH_BYTES + length)), AES_KEY_LENGTH);
  const decipher = createDecipheriv(CIPHER, key, data.subarray(LENGTH_BYTES + length, bodyStart), { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(data.subarray(data.length - TAG_LENGTH));
  try {
    return Buffer.concat([decipher.update(data.subarray(bodyStart, data.length - TAG_LENGTH)), decipher.final()]);
  } catch (e) {
    throw asDecryptionError(e);
  }
}

function decryptStream(mechanism: KeyEncapsulation, encrypted: Readable | AsyncIterable<Uint8Array>, privateKey: KeyObject): Readable {
  checkKey(mechanism, privateKey, 'private');
  return pipeInto(toReadable(encrypted), new DecryptingTransform(mechanism, privateKey));
}

/** source -> transform with errors of the source passed on (pipe() alone would drop them). */
function pipeInto(source: Readable, transform: Transform): Transform {
  source.on('error', (e) => transform.destroy(e));
  transform.on('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  return source.pipe(transform);
}

export function createKem(mechanism: KeyEncapsulation): Kem {
  function encrypt(data: Uint8Array, publicKey: KeyObject): Buffer;
  function encrypt(data: Readable | AsyncIterable<Uint8Array>, publicKey: KeyObject): Readable;
  function encrypt(data: Uint8Array | Readable | AsyncIterable<Uint8Array>, publicKey: KeyObject): Buffer | Readable {
    return isBytes(data) ? encryptBytes(mechanism, data, publicKey) : encryptStream(mechanism, data, publicKey);
  }
  function decrypt(encrypted: Uint8Array, privateKey: KeyObject): Buffer;
  function decrypt(encrypted: Readable | AsyncIterable<Uint8Array>, privateKey: KeyObject): Readable;
  function decrypt(encrypted: Uint8Array | Readable | AsyncIterable<Uint8Array>, privateKey: KeyObject): Buffer | Readable {
    return isBytes(encrypted) ? decryptBytes(mechanism, encrypted, privateKey) : decryptStream(mechanism, encrypted, privateKey);
  }
  return { encrypt, decrypt };
}
