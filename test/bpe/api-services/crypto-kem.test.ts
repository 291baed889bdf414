// KEM encryption: vectors written by Java (Bouncy Castle RSA-KEM, JDK-based DHKEM, JDK AES-GCM;
// see test/fixtures/java-interop/generator), published vectors (RFC 9180, RFC 7748, the GCM
// specification), round trips for every algorithm, tampering, and streaming without buffering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createHash, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { DecryptionError } from '../../../src/plugin-api/services/crypto.ts';
import { createCryptoService } from '../../../src/bpe/api-services/crypto/crypto-service.ts';
import { dhKemDecapsulate, dhKemEncapsulate } from '../../../src/bpe/api-services/crypto/dh-kem.ts';
import { createKem } from '../../../src/bpe/api-services/crypto/kem-aes-gcm.ts';
import { kdf2 } from '../../../src/bpe/api-services/crypto/rsa-kem.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/java-interop');
const crypto = createCryptoService();
const KEYS = ['rsa4096', 'x25519', 'x448', 'secp256r1', 'secp384r1', 'secp521r1'];
const SHORT = readFileSync(join(FIXTURES, 'plaintext-short.txt'));
const hex = (s: string) => Buffer.from(s, 'hex');

/** The generator's long plaintext: numbered lines, cut at 20,000 bytes. */
function longPlaintext(): Buffer {
  let text = '';
  for (let i = 0; text.length < 20000; i++) text += `line ${i}: the quick brown fox jumps over the lazy dog\n`;
  return Buffer.from(text.slice(0, 20000));
}

function kemFor(name: string) {
  return name.startsWith('rsa') ? crypto.createRsaKem() : crypto.createEcDhKem();
}

function chunked(data: Buffer, size: number): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  })());
}

for (const name of KEYS) {
  test(`decrypts what Java encrypted for a ${name} key`, async () => {
    const key = await crypto.readPrivateKeyFile(join(FIXTURES, `kem/${name}.key.pem`));
    const encrypted = readFileSync(join(FIXTURES, `kem/${name}.short.enc`));
    assert.deepEqual(kemFor(name).decrypt(encrypted, key), SHORT);
    // The layout: 2-byte length, encapsulation, 12-byte IV, ciphertext, 16-byte tag.
    const length = encrypted.readUInt16BE(0);
    assert.equal(encrypted.length, 2 + length + 12 + SHORT.length + 16);
  });

  test(`round trip with a fresh ${name} key pair, bytes and streams`, async () => {
    const generator = {
      rsa4096: crypto.createKeyPairGeneratorRsa4096AndInitialize,
      x25519: crypto.createKeyPairGeneratorX25519AndInitialize,
      x448: crypto.createKeyPairGeneratorX448AndInitialize,
      secp256r1: crypto.createKeyPairGeneratorSecp256r1AndInitialize,
      secp384r1: crypto.createKeyPairGeneratorSecp384r1AndInitialize,
      secp521r1: crypto.createKeyPairGeneratorSecp521r1AndInitialize,
    }[name]!();
    const pair = await generator.generateKeyPair();
    assert.equal(crypto.isKeyPair(pair.privateKey, pair.publicKey), true);
    const kem = kemFor(name);
    const data = longPlaintext();
    assert.deepEqual(kem.decrypt(kem.encrypt(data, pair.publicKey), pair.privateKey), data);
    const encrypted = await buffer(kem.encrypt(chunked(data, 999), pair.publicKey));
    assert.deepEqual(await buffer(kem.decrypt(chunked(encrypted, 7), pair.privateKey)), data);
    assert.deepEqual(kem.decrypt(kem.encrypt(Buffer.alloc(0), pair.publicKey), pair.privateKey), Buffer.alloc(0));
  });
}

test('decrypts long Java-encrypted data as a stream in small chunks (RSA-KEM and X25519)', async () => {
  for (const name of ['rsa4096', 'x25519']) {
    const key = await crypto.readPrivateKeyFile(join(FIXTURES, `kem/${name}.key.pem`));
    const encrypted = readFileSync(join(FIXTURES, `kem/${name}.long.enc`));
    assert.deepEqual(await buffer(kemFor(name).decrypt(chunked(encrypted, 1000), key)), longPlaintext());
  }
});

test('altered, truncated or misdirected data is refused with DecryptionError', async () => {
  const key = await crypto.readPrivateKeyFile(join(FIXTURES, 'kem/x25519.key.pem'));
  const original = readFileSync(join(FIXTURES, 'kem/x25519.short.enc'));
  const kem = crypto.createEcDhKem();
  const flipped = Buffer.from(original);
  flipped[flipped.length - 20]! ^= 1;
  assert.throws(() => kem.decrypt(flipped, key), (e: Error) => e instanceof DecryptionError && /authentication tag/.test(e.message));
  await assert.rejects(buffer(kem.decrypt(chunked(flipped, 5), key)), DecryptionError);
  assert.throws(() => kem.decrypt(original.subarray(0, 50), key), /ends before its authentication tag/);
  await assert.rejects(buffer(kem.decrypt(chunked(original.subarray(0, 20), 3), key)), /ends inside its header/);
  const other = (await crypto.createKeyPairGeneratorX25519AndInitialize().generateKeyPair()).privateKey;
  assert.throws(() => kem.decrypt(original, other), DecryptionError);
  const rsaKey = await crypto.readPrivateKeyFile(join(FIXTURES, 'kem/rsa4096.key.pem'));
  assert.throws(() => kem.decrypt(original, rsaKey), /not supported by DHKEM/);
  assert.throws(() => crypto.createRsaKem().decrypt(original, key), /not supported by RSA-KEM/);
  assert.throws(() => kem.encrypt(SHORT, key), /public key required/);
});

test('streaming decryption emits plaintext before the input has ended (nothing buffered whole)', async () => {
  const pair = await crypto.createKeyPairGeneratorSecp256r1AndInitialize().generateKeyPair();
  const kem = crypto.createEcDhKem();
  const chunk = Buffer.alloc(64 * 1024, 7);
  const chunks = 256; // 16 MiB
  const encrypted = kem.encrypt(Readable.from((function* () { for (let i = 0; i < chunks; i++) yield chunk; })()), pair.publicKey);
  let produced = 0;
  const counted = Readable.from((async function* () {
    for await (const c of encrypted) {
      produced++;
      yield c as Buffer;
    }
  })());
  const decrypted = kem.decrypt(counted, pair.privateKey);
  let firstOutputAfter = -1;
  let total = 0;
  for await (const c of decrypted) {
    if (firstOutputAfter < 0) firstOutputAfter = produced;
    total += (c as Buffer).length;
  }
  assert.equal(total, chunk.length * chunks);
  assert.ok(firstOutputAfter > 0 && firstOutputAfter < produced / 4, `first plaintext after ${firstOutputAfter} of ${produced} input chunks`);
});

test('DHKEM matches RFC 9180 A.1.1 (X25519) and A.3.1 (P-256) shared secrets', () => {
  const x25519Private = (raw: string) => createPrivateKey({ key: Buffer.concat([hex('302e020100300506032b656e04220420'), hex(raw)]), format: 'der', type: 'pkcs8' });
  const skE = x25519Private('52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736');
  const skR = x25519Private('4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8');
  const { sharedSecret, enc } = dhKemEncapsulate(createPublicKey(skR), { privateKey: skE, publicKey: createPublicKey(skE) });
  assert.equal(enc.toString('hex'), '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431');
  assert.equal(sharedSecret.toString('hex'), 'fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc');
  assert.equal(dhKemDecapsulate(skR, enc).toString('hex'), 'fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc');

  const p256Private = (raw: string): KeyObject => {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(hex(raw));
    const point = ecdh.getPublicKey();
    return createPrivateKey({
      key: { kty: 'EC', crv: 'P-256', d: hex(raw).toString('base64url'), x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
      format: 'jwk',
    });
  };
  const skE2 = p256Private('4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb');
  const skR2 = p256Private('f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2');
  const result = dhKemEncapsulate(createPublicKey(skR2), { privateKey: skE2, publicKey: createPublicKey(skE2) });
  assert.equal(
    result.enc.toString('hex'),
    '04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4',
  );
  assert.equal(result.sharedSecret.toString('hex'), 'c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8');
});

test('X25519 agreement matches RFC 7748 section 6.1', () => {
  const priv = (raw: string) => createPrivateKey({ key: Buffer.concat([hex('302e020100300506032b656e04220420'), hex(raw)]), format: 'der', type: 'pkcs8' });
  const alice = priv('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bob = priv('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  assert.equal(Buffer.from(createPublicKey(alice).export({ format: 'jwk' }).x!, 'base64url').toString('hex'), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(
    diffieHellman({ privateKey: alice, publicKey: createPublicKey(bob) }).toString('hex'),
    '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  );
});

test('the AES-256-GCM part matches the GCM specification test case 15', () => {
  const key = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
  const fixedKey = createKem({
    unsupported: () => undefined,
    encapsulate: () => ({ key, encapsulation: Buffer.from([1]) }),
    decapsulate: () => key,
  });
  const plaintext = hex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255');
  const ciphertext = hex('522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad');
  const tag = hex('b094dac5d93471bdec1a502270e3cc6c');
  const message = Buffer.concat([hex('0001'), Buffer.from([1]), hex('cafebabefacedbaddecaf888'), ciphertext, tag]);
  const anyPrivate = createPrivateKey(readFileSync(join(FIXTURES, 'kem/x25519.key.pem')));
  assert.deepEqual(fixedKey.decrypt(message, anyPrivate), plaintext);
  const encrypted = fixedKey.encrypt(plaintext, createPublicKey(anyPrivate));
  assert.equal(encrypted.length, message.length);
});

test('KDF2 is ISO 18033-2 KDF2: SHA-512 of Z || 00000001', () => {
  const z = Buffer.from('abc');
  assert.deepEqual(kdf2('sha512', z, 32), createHash('sha512').update(Buffer.concat([z, hex('00000001')])).digest().subarray(0, 32));
  assert.equal(kdf2('sha512', z, 100).length, 100);
});
