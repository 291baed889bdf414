// PKCS#12 (RFC 7292) files for browsers, Java keystores and curl: one private key and its certificate
// chain, written with node:crypto only. The key is a PBES2 (PBKDF2 + AES-256-CBC) EncryptedPrivateKeyInfo
// as OpenSSL exports it; certificates are stored unencrypted; the whole is protected by an HMAC-SHA256
// MAC whose key comes from the PKCS#12 key derivation (RFC 7292 appendix B), as OpenSSL 3 and Java
// write them. The DER is assembled by hand: the few structures needed do not justify a dependency.
import { createHash, createHmac, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { bmpPassword, pkcs12Kdf } from './pkcs12-kdf.ts';
import { explicit0, integer, nul, octetString, oid, sequence, set, tlv } from './der-writer.ts';

const bmpString = (s: string) => tlv(0x1e, Buffer.from(s, 'utf16le').swap16());

const OID = {
  data: '1.2.840.113549.1.7.1',
  keyBag: '1.2.840.113549.1.12.10.1.2', // pkcs8ShroudedKeyBag
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
};

const data = (content: Buffer) => sequence(oid(OID.data), explicit0(octetString(content)));


export interface Pkcs12Options {
  /** PEM private key (PKCS#8 or PKCS#1/SEC1). */
  keyPem: string;
  /** PEM certificate, then optionally its chain (e.g. the CA). */
  certificatePems: string[];
  password: string;
  /** Alias shown by browsers and keytool. */
  friendlyName?: string;
  iterations?: number;
}

/** The DER bytes of a PKCS#12 file holding the key and certificates. */
export function createPkcs12(o: Pkcs12Options): Buffer {
  const iterations = o.iterations ?? 10_000;
  const [leaf, ...chain] = o.certificatePems.map((pem) => new X509Certificate(pem).raw);
  if (!leaf) throw new Error('PKCS#12: a certificate is needed');
  const localKeyId = createHash('sha1').update(leaf).digest();
  const attributes = (withName: boolean) =>
    set(
      sequence(oid(OID.localKeyId), set(octetString(localKeyId))),
      ...(withName && o.friendlyName ? [sequence(oid(OID.friendlyName), set(bmpString(o.friendlyName)))] : []),
    );
  const encryptedKey = createPrivateKey(o.keyPem).export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: o.password });
  const keyBag = sequence(oid(OID.keyBag), explicit0(encryptedKey), attributes(true));
  const certBag = (der: Buffer, first: boolean) =>
    sequence(oid(OID.certBag), explicit0(sequence(oid(OID.x509Certificate), explicit0(octetString(der)))), ...(first ? [attributes(true)] : []));
  const safeContents = sequence(keyBag, certBag(leaf, true), ...chain.map((c) => certBag(c, false)));
  const authSafe = sequence(data(safeContents));
  const salt = randomBytes(16);
  const macKey = pkcs12Kdf('sha256', o.password ? bmpPassword(o.password) : Buffer.alloc(0), salt, 3, iterations, 32);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const macData = sequence(sequence(sequence(oid(OID.sha256), nul), octetString(mac)), octetString(salt), integer(iterations));
  return sequence(integer(3), data(authSafe), macData);
}
