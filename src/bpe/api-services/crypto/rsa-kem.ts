// RSA-KEM (ISO 18033-2, RFC 5990) with KDF2 over SHA-512, as Bouncy Castle's RSAKEMGenerator and
// RSAKEMExtractor do for the reference: a random r below the modulus, encapsulation r^e mod n as
// a modulus-length big-endian integer, key = KDF2-SHA512(r as modulus-length integer).
// The modular exponentiations run in OpenSSL (raw RSA without padding).
import { constants, createHash, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { DecryptionError } from '../../../plugin-api/services/crypto.ts';
import type { Encapsulated, KeyEncapsulation } from './key-encapsulation.ts';

/** KDF2 (ISO 18033-2): Hash(Z || counter) for counter = 1, 2, ..., without other info. */
export function kdf2(hash: string, z: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let produced = 0;
  for (let counter = 1; produced < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(z).update(c).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function modulus(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.n!, 'base64url');
}

function modulusBits(n: Buffer): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]!));
}

/** A uniformly random integer in [0, n - 1], as an n-length big-endian byte string. */
function randomBelow(n: Buffer): Buffer {
  const bits = modulusBits(n);
  const length = Math.ceil(bits / 8);
  const padded = n.subarray(n.length - length);
  const topBits = bits % 8;
  for (;;) {
    const r = randomBytes(length);
    if (topBits) r[0]! &= (1 << topBits) - 1;
    if (Buffer.compare(r, padded) < 0) return r;
  }
}

export const rsaKem: KeyEncapsulation = {
  unsupported(key) {
    return key.asymmetricKeyType === 'rsa' ? undefined : `key algorithm ${key.asymmetricKeyType} not supported by RSA-KEM (RSA keys only)`;
  },

  encapsulate(publicKey, keyLength): Encapsulated {
    const r = randomBelow(modulus(publicKey));
    const encapsulation = publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, r);
    return { key: kdf2('sha512', r, keyLength), encapsulation };
  },

  decapsulate(privateKey, encapsulation, keyLength) {
    const length = Math.ceil(modulusBits(modulus(privateKey)) / 8);
    if (encapsulation.length !== length) {
      throw new DecryptionError(`RSA-KEM encapsulation has ${encapsulation.length} bytes, the key's modulus ${length}`);
    }
    let r: Buffer;
    try {
      r = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encapsulation);
    } catch (e) {
      throw new DecryptionError(`RSA-KEM encapsulation not usable with this key: ${(e as Error).message}`);
    }
    return kdf2('sha512', r, keyLength);
  },
};
