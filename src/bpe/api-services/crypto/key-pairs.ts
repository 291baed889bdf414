// Key pair generators for the algorithms the reference offers, and the check that a private and
// a public key belong together.
import { createPublicKey, generateKeyPair as generateKeyPairCallback, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyPair, KeyPairGenerator } from '../../../plugin-api/services/crypto.ts';

const generate = promisify(generateKeyPairCallback) as unknown as (type: string, options?: object) => Promise<KeyPair>;

function generator(algorithm: string, type: string, options?: object): KeyPairGenerator {
  return { algorithm, generateKeyPair: () => generate(type, options) };
}

// F4 as the public exponent, as the reference's RSAKeyGenParameterSpec(4096, F4).
export const rsa4096 = (): KeyPairGenerator => generator('RSA', 'rsa', { modulusLength: 4096, publicExponent: 0x10001 });
export const secp256r1 = (): KeyPairGenerator => generator('EC', 'ec', { namedCurve: 'prime256v1' });
export const secp384r1 = (): KeyPairGenerator => generator('EC', 'ec', { namedCurve: 'secp384r1' });
export const secp521r1 = (): KeyPairGenerator => generator('EC', 'ec', { namedCurve: 'secp521r1' });
export const x25519 = (): KeyPairGenerator => generator('X25519', 'x25519');
export const x448 = (): KeyPairGenerator => generator('X448', 'x448');

/**
 * The reference signs and verifies (RSA, EC, EdDSA), agrees on a secret (XDH) or compares modulus
 * and exponent (RSA CRT keys); all amount to "the private key's public half is this public key",
 * which is what is compared here.
 */
export function isKeyPair(privateKey: KeyObject | undefined | null, publicKey: KeyObject | undefined | null): boolean {
  if (!privateKey || !publicKey || privateKey.type !== 'private' || publicKey.type !== 'public') return false;
  if (privateKey.asymmetricKeyType !== publicKey.asymmetricKeyType) return false;
  const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return derived.equals(publicKey.export({ type: 'spki', format: 'der' }));
}
