// PKCS#12 (RFC 7292) files as Java's KeyStore "pkcs12" reads them: password-based MAC checked,
// encrypted contents decrypted (PBES2 with PBKDF2 and AES/3DES, or the PKCS#12 PBE schemes with
// SHA-1), key bags become key entries with their certificate chain, other certificates trusted
// certificate entries. Without a password, as in Java, the MAC is not checked and encrypted parts
// are skipped.
import { createDecipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { KeyStoreError } from '../../../plugin-api/services/crypto.ts';
import { children, DER, expect, integer, oid, readNode, type DerNode } from './der.ts';
import { MemoryKeyStore } from './key-store.ts';
import { bmpPassword, pkcs12Kdf } from '../../../common/pkcs12-kdf.ts';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
} as const;

const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const HMACS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const PBES2_CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
const PKCS12_PBE: Record<string, { name: string; keyLength: number; ivLength: number }> = {
  '1.2.840.113549.1.12.1.3': { name: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
  '1.2.840.113549.1.12.1.6': { name: 'rc2-40-cbc', keyLength: 5, ivLength: 8 },
  '1.2.840.113549.1.12.1.5': { name: 'rc2-cbc', keyLength: 16, ivLength: 8 },
};

function decrypt(algorithm: DerNode, encrypted: Buffer, password: string): Buffer {
  const [algorithmOid, params] = children(algorithm);
  const id = oid(algorithmOid);
  if (id === OID.pbes2) {
    const [kdf, scheme] = children(expect(params, DER.SEQUENCE, 'PBES2 parameters'));
    const [kdfOid, kdfParams] = children(kdf!);
    if (oid(kdfOid) !== OID.pbkdf2) throw new KeyStoreError(`PBES2 key derivation ${oid(kdfOid)} not supported`);
    const fields = children(kdfParams!);
    const salt = expect(fields[0], DER.OCTET_STRING, 'PBKDF2 salt').content;
    const iterations = integer(fields[1]);
    const prfNode = fields.find((f, index) => index >= 2 && f.tag === DER.SEQUENCE);
    const prf = prfNode ? HMACS[oid(children(prfNode)[0])] : 'sha1';
    const [schemeOid, ivNode] = children(scheme!);
    const cipher = PBES2_CIPHERS[oid(schemeOid)];
    if (!prf || !cipher) throw new KeyStoreError('PBES2 algorithm not supported');
    const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher.keyLength, prf);
    const decipher = createDecipheriv(cipher.name, key, expect(ivNode, DER.OCTET_STRING, 'IV').content);
    return Buffer.concat([decipher.update(encrypted), decipher.final()]);
  }
  const pbe = PKCS12_PBE[id];
  if (!pbe) throw new KeyStoreError(`encryption algorithm ${id} not supported`);
  const [saltNode, iterationsNode] = children(expect(params, DER.SEQUENCE, 'PBE parameters'));
  const salt = expect(saltNode, DER.OCTET_STRING, 'salt').content;
  const iterations = integer(iterationsNode);
  const bmp = bmpPassword(password);
  const key = pkcs12Kdf('sha1', bmp, salt, 1, iterations, pbe.keyLength);
  const iv = pkcs12Kdf('sha1', bmp, salt, 2, iterations, pbe.ivLength);
  let decipher;
  try {
    decipher = createDecipheriv(pbe.name, key, iv);
  } catch (e) {
    throw new KeyStoreError(`${pbe.name} not available in this Node/OpenSSL (${(e as Error).message}); re-create the file with AES (PBES2)`);
  }
  return Buffer.concat([decipher.update(encrypted), decipher.final()]);
}

function checkMac(macData: DerNode, content: Buffer, password: string): void {
  const [digestInfo, saltNode, iterationsNode] = children(macData);
  const [algorithm, digest] = children(digestInfo!);
  const hash = HASHES[oid(children(algorithm!)[0])];
  if (!hash) throw new KeyStoreError('PKCS#12 MAC algorithm not supported');
  const iterations = iterationsNode ? integer(iterationsNode) : 1;
  const expected = expect(digest, DER.OCTET_STRING, 'MAC').content;
  const key = pkcs12Kdf(hash, bmpPassword(password), expect(saltNode, DER.OCTET_STRING, 'MAC salt').content, 3, iterations, createHash(hash).digest().length);
  const actual = createHmac(hash, key).update(content).digest();
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new KeyStoreError('PKCS#12 integrity check failed: wrong password or damaged file');
  }
}

interface Bag {
  type: string;
  value: DerNode;
  friendlyName?: string;
  localKeyId?: string;
}

function bagsOf(safeContents: Buffer, password: string | undefined, out: Bag[]): void {
  for (const bag of children(expect(readNode(safeContents), DER.SEQUENCE, 'SafeContents'))) {
    const [typeNode, valueNode, attributes] = children(bag);
    const type = oid(typeNode);
    const value = children(expect(valueNode, DER.context(0), 'bag value'))[0]!;
    const entry: Bag = { type, value };
    for (const attribute of attributes ? children(attributes) : []) {
      const [attributeOid, values] = children(attribute);
      const first = children(values!)[0];
      if (!first) continue;
      if (oid(attributeOid) === OID.friendlyName) entry.friendlyName = Buffer.from(first.content).swap16().toString('utf16le');
      if (oid(attributeOid) === OID.localKeyId) entry.localKeyId = first.content.toString('hex');
    }
    if (type === OID.safeContentsBag) bagsOf(value.encoded, password, out);
    else out.push(entry);
  }
}

export function readPkcs12(data: Buffer, password: string | undefined): MemoryKeyStore {
  try {
    return parse(data, password);
  } catch (e) {
    if (e instanceof KeyStoreError) throw e;
    throw new KeyStoreError(`not a readable PKCS#12 file: ${(e as Error).message}`);
  }
}

function parse(data: Buffer, password: string | undefined): MemoryKeyStore {
  const [version, authSafe, macData] = children(expect(readNode(data), DER.SEQUENCE, 'PFX'));
  if (integer(version) !== 3) throw new KeyStoreError('PKCS#12 version must be 3');
  const [contentType, wrapped] = children(authSafe!);
  if (oid(contentType) !== OID.data) throw new KeyStoreError('only password-integrity PKCS#12 files are supported');
  const authSafeContent = expect(children(expect(wrapped, DER.context(0), 'content'))[0], DER.OCTET_STRING, 'data').content;
  if (password !== undefined && macData) checkMac(macData, authSafeContent, password);

  const bags: Bag[] = [];
  for (const contentInfo of children(expect(readNode(authSafeContent), DER.SEQUENCE, 'AuthenticatedSafe'))) {
    const [typeNode, content] = children(contentInfo);
    const type = oid(typeNode);
    const inner = children(expect(content, DER.context(0), 'content'))[0]!;
    if (type === OID.data) {
      bagsOf(expect(inner, DER.OCTET_STRING, 'data').content, password, bags);
    } else if (type === OID.encryptedData) {
      if (password === undefined) continue;
      const [, encryptedContentInfo] = children(inner);
      const [, algorithm, encrypted] = children(encryptedContentInfo!);
      if (!encrypted || encrypted.tag !== DER.context(0, false)) throw new KeyStoreError('PKCS#12 encrypted content missing');
      bagsOf(decrypt(algorithm!, encrypted.content, password), password, bags);
    }
  }
  return toKeyStore(bags, password);
}

function toKeyStore(bags: Bag[], password: string | undefined): MemoryKeyStore {
  const store = new MemoryKeyStore('pkcs12');
  const certificates = bags
    .filter((b) => b.type === OID.certBag)
    .flatMap((b) => {
      const [certType, certValue] = children(b.value);
      if (oid(certType) !== OID.x509Certificate) return [];
      const der = expect(children(expect(certValue, DER.context(0), 'certificate'))[0], DER.OCTET_STRING, 'certificate').content;
      return [{ bag: b, certificate: new X509Certificate(der) }];
    });
  const used = new Set<X509Certificate>();
  let index = 0;
  for (const bag of bags) {
    if (bag.type !== OID.keyBag && bag.type !== OID.shroudedKeyBag) continue;
    if (bag.type === OID.shroudedKeyBag && password === undefined) continue;
    let key: KeyObject;
    try {
      key = createPrivateKey(
        bag.type === OID.keyBag
          ? { key: bag.value.encoded, format: 'der', type: 'pkcs8' }
          : { key: decryptShroudedKey(bag.value, password!), format: 'der', type: 'pkcs8' },
      );
    } catch (e) {
      throw new KeyStoreError(`private key not readable: ${(e as Error).message}`);
    }
    const leaf = certificates.find((c) => c.bag.localKeyId !== undefined && c.bag.localKeyId === bag.localKeyId);
    if (!leaf) continue;
    const chain = [leaf.certificate];
    used.add(leaf.certificate);
    for (;;) {
      const last = chain[chain.length - 1]!;
      if (last.checkIssued(last)) break;
      const issuer = certificates.find((c) => !chain.includes(c.certificate) && last.checkIssued(c.certificate));
      if (!issuer) break;
      chain.push(issuer.certificate);
      used.add(issuer.certificate);
    }
    store.setKeyEntry(bag.friendlyName ?? leaf.bag.friendlyName ?? `${index++}`, key, password ?? '', chain);
  }
  for (const { bag, certificate } of certificates) {
    if (used.has(certificate) || bag.localKeyId !== undefined) continue;
    store.setCertificateEntry(bag.friendlyName ?? `${index++}`, certificate);
  }
  return store;
}

/** EncryptedPrivateKeyInfo -> PrivateKeyInfo, with the same algorithms as the safe contents. */
function decryptShroudedKey(value: DerNode, password: string): Buffer {
  const [algorithm, encrypted] = children(value);
  return decrypt(algorithm!, expect(encrypted, DER.OCTET_STRING, 'encrypted key').content, password);
}
