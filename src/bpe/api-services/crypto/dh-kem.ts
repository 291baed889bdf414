// DHKEM from RFC 9180 (HPKE), section 4.1, as the JDK's KEM "DHKEM" implements it for the
// reference: an ephemeral key pair on the recipient's curve, dh = DH(skE, pkR),
// shared_secret = ExtractAndExpand(dh, enc || pkRm); the AES key is the first bytes of
// shared_secret, the encapsulation is the serialised ephemeral public key.
import {
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { DecryptionError } from '../../../plugin-api/services/crypto.ts';
import type { Encapsulated, KeyEncapsulation } from './key-encapsulation.ts';

interface DhKemSuite {
  kemId: number;
  hash: 'sha256' | 'sha384' | 'sha512';
  /** Length of shared_secret (Nsecret). */
  secretLength: number;
  /** Length of a serialised public key (Nenc, Npk). */
  encLength: number;
  /** JWK curve name. */
  crv: 'P-256' | 'P-384' | 'P-521' | 'X25519' | 'X448';
}

// RFC 9180, table 2.
const SUITES: readonly DhKemSuite[] = [
  { kemId: 0x0010, hash: 'sha256', secretLength: 32, encLength: 65, crv: 'P-256' },
  { kemId: 0x0011, hash: 'sha384', secretLength: 48, encLength: 97, crv: 'P-384' },
  { kemId: 0x0012, hash: 'sha512', secretLength: 64, encLength: 133, crv: 'P-521' },
  { kemId: 0x0020, hash: 'sha256', secretLength: 32, encLength: 32, crv: 'X25519' },
  { kemId: 0x0021, hash: 'sha512', secretLength: 64, encLength: 56, crv: 'X448' },
];

const NODE_CURVE_TO_CRV: Record<string, DhKemSuite['crv']> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

function suiteOf(key: KeyObject): DhKemSuite | undefined {
  let crv: string | undefined;
  if (key.asymmetricKeyType === 'x25519') crv = 'X25519';
  else if (key.asymmetricKeyType === 'x448') crv = 'X448';
  else if (key.asymmetricKeyType === 'ec') crv = NODE_CURVE_TO_CRV[key.asymmetricKeyDetails?.namedCurve ?? ''];
  return SUITES.find((s) => s.crv === crv);
}

function isEc(suite: DhKemSuite): boolean {
  return suite.crv.startsWith('P-');
}

/** SerializePublicKey: uncompressed SEC1 point for the NIST curves, the raw u-coordinate for X25519/X448. */
export function serializePublicKey(suite: DhKemSuite, publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (!isEc(suite)) return Buffer.from(jwk.x!, 'base64url');
  const size = (suite.encLength - 1) / 2;
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  const out = Buffer.alloc(suite.encLength);
  out[0] = 0x04;
  x.copy(out, 1 + size - x.length);
  y.copy(out, 1 + 2 * size - y.length);
  return out;
}

function deserializePublicKey(suite: DhKemSuite, enc: Buffer): KeyObject {
  if (enc.length !== suite.encLength) throw new DecryptionError(`DHKEM encapsulation for ${suite.crv} must have ${suite.encLength} bytes, not ${enc.length}`);
  try {
    if (!isEc(suite)) return createPublicKey({ key: { kty: 'OKP', crv: suite.crv, x: enc.toString('base64url') }, format: 'jwk' });
    if (enc[0] !== 0x04) throw new Error('not an uncompressed point');
    const size = (suite.encLength - 1) / 2;
    const x = enc.subarray(1, 1 + size).toString('base64url');
    const y = enc.subarray(1 + size).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: suite.crv, x, y }, format: 'jwk' });
  } catch (e) {
    throw new DecryptionError(`DHKEM encapsulation is not a ${suite.crv} public key: ${(e as Error).message}`);
  }
}

function suiteId(suite: DhKemSuite): Buffer {
  const id = Buffer.from('KEM\0\0', 'latin1');
  id.writeUInt16BE(suite.kemId, 3);
  return id;
}

/** ExtractAndExpand with RFC 9180's labels; HKDF-Extract then -Expand is exactly Node's hkdf. */
export function extractAndExpand(suite: DhKemSuite, dh: Buffer, kemContext: Buffer): Buffer {
  const version = Buffer.from('HPKE-v1', 'latin1');
  const labeledIkm = Buffer.concat([version, suiteId(suite), Buffer.from('eae_prk', 'latin1'), dh]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(suite.secretLength);
  const labeledInfo = Buffer.concat([length, version, suiteId(suite), Buffer.from('shared_secret', 'latin1'), kemContext]);
  return Buffer.from(hkdfSync(suite.hash, labeledIkm, Buffer.alloc(0), labeledInfo, suite.secretLength));
}

function ephemeralKeyPair(suite: DhKemSuite): { publicKey: KeyObject; privateKey: KeyObject } {
  if (suite.crv === 'X25519') return generateKeyPairSync('x25519');
  if (suite.crv === 'X448') return generateKeyPairSync('x448');
  return generateKeyPairSync('ec', { namedCurve: suite.crv });
}

/** Encap(pkR) with the full shared_secret; `ephemeral` only for known-answer tests. */
export function dhKemEncapsulate(publicKey: KeyObject, ephemeral?: { publicKey: KeyObject; privateKey: KeyObject }): { sharedSecret: Buffer; enc: Buffer } {
  const suite = requireSuite(publicKey);
  const pair = ephemeral ?? ephemeralKeyPair(suite);
  const dh = diffieHellman({ privateKey: pair.privateKey, publicKey });
  const enc = serializePublicKey(suite, pair.publicKey);
  const sharedSecret = extractAndExpand(suite, dh, Buffer.concat([enc, serializePublicKey(suite, publicKey)]));
  return { sharedSecret, enc };
}

/** Decap(enc, skR) with the full shared_secret. */
export function dhKemDecapsulate(privateKey: KeyObject, enc: Buffer): Buffer {
  const suite = requireSuite(privateKey);
  const ephemeralPublic = deserializePublicKey(suite, enc);
  let dh: Buffer;
  try {
    dh = diffieHellman({ privateKey, publicKey: ephemeralPublic });
  } catch (e) {
    throw new DecryptionError(`DHKEM key agreement failed: ${(e as Error).message}`);
  }
  const pkRm = serializePublicKey(suite, createPublicKey(privateKey));
  return extractAndExpand(suite, dh, Buffer.concat([enc, pkRm]));
}

function requireSuite(key: KeyObject): DhKemSuite {
  const suite = suiteOf(key);
  if (!suite) throw new TypeError(unsupported(key));
  return suite;
}

function unsupported(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `key algorithm ${key.asymmetricKeyType}${curve ? ` (${curve})` : ''} not supported by DHKEM (X25519, X448, secp256r1, secp384r1, secp521r1)`;
}

export const ecDhKem: KeyEncapsulation = {
  unsupported(key) {
    return suiteOf(key) ? undefined : unsupported(key);
  },

  encapsulate(publicKey, keyLength): Encapsulated {
    const { sharedSecret, enc } = dhKemEncapsulate(publicKey);
    // The JDK's encapsulate(0, keyLength, "AES") takes the first bytes of shared_secret.
    return { key: sharedSecret.subarray(0, keyLength), encapsulation: enc };
  },

  decapsulate(privateKey, encapsulation, keyLength) {
    return dhKemDecapsulate(privateKey, encapsulation).subarray(0, keyLength);
  },
};
