// S/MIME signing of the BPE's mails (DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE, as the reference): a detached
// CMS SignedData (RFC 5652) over the MIME entity, SHA-256, with the signer's certificate chain and the
// signed attributes content type, signing time and message digest, sent as multipart/signed (RFC 8551).
// The PKCS#12 key store is read once at start (the crypto service's reader). The DER is written by
// hand: a few structures.
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readPkcs12 } from '../api-services/crypto/pkcs12-reader.ts';
import { integer, nul, octetString, oid, sequence, setOf, tlv } from '../../common/der-writer.ts';

function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  return tlv(0x17, Buffer.from(`${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`, 'ascii'));
}

/** The elements (tag, whole encoding) of a constructed DER value. */
function children(der: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = headerLength(der, 0);
  const end = i + contentLength(der, 0);
  while (i < end) {
    const size = headerLength(der, i) + contentLength(der, i);
    out.push(der.subarray(i, i + size));
    i += size;
  }
  return out;
}
function headerLength(der: Buffer, at: number): number {
  const first = der[at + 1]!;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}
function contentLength(der: Buffer, at: number): number {
  const first = der[at + 1]!;
  if (first < 0x80) return first;
  let n = 0;
  for (let k = 0; k < (first & 0x7f); k++) n = n * 256 + der[at + 2 + k]!;
  return n;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
};

export interface SmimeSigner {
  /** The signer's certificate subject (for logs). */
  subject: string;
  /** A detached signature (DER ContentInfo) of the bytes. */
  signDetached(content: Buffer): Buffer;
}

export function createSmimeSigner(keyPem: string, chainPem: string[]): SmimeSigner {
  const key: KeyObject = createPrivateKey(keyPem);
  const certs = chainPem.map((p) => new X509Certificate(p));
  const signer = certs.find((c) => c.checkPrivateKey(key));
  if (!signer) throw new Error('no certificate of the key store belongs to its private key');
  // IssuerAndSerialNumber: the issuer Name and serial INTEGER straight from the certificate's DER.
  const tbs = children(signer.raw)[0]!;
  const tbsParts = children(tbs);
  const offset = tbsParts[0]![0] === 0xa0 ? 1 : 0; // [0] version present
  const serial = tbsParts[offset]!;
  const issuer = tbsParts[offset + 2]!;
  const ec = key.asymmetricKeyType === 'ec';
  if (!ec && key.asymmetricKeyType !== 'rsa') throw new Error(`S/MIME signing with ${key.asymmetricKeyType} keys is not supported (RSA or EC)`);
  return {
    subject: signer.subject.replace(/\n/g, ', '),
    signDetached(content) {
      const digest = createHash('sha256').update(content).digest();
      const attrs = [
        sequence(oid(OID.contentType), setOf(oid(OID.data))),
        sequence(oid(OID.signingTime), setOf(utcTime(new Date()))),
        sequence(oid(OID.messageDigest), setOf(octetString(digest))),
      ];
      const signedAttrs = setOf(...attrs);
      const signature = sign('sha256', signedAttrs, ec ? { key, dsaEncoding: 'der' } : key);
      const signerInfo = sequence(
        integer(1),
        sequence(issuer, serial),
        sequence(oid(OID.sha256), nul),
        Buffer.concat([Buffer.from([0xa0]), signedAttrs.subarray(1)]), // [0] IMPLICIT SET
        ec ? sequence(oid(OID.ecdsaWithSha256)) : sequence(oid(OID.rsaEncryption), nul),
        octetString(signature),
      );
      const signedData = sequence(
        integer(1),
        setOf(sequence(oid(OID.sha256), nul)),
        sequence(oid(OID.data)), // detached: no content
        tlv(0xa0, Buffer.concat(certs.map((c) => c.raw))),
        setOf(signerInfo),
      );
      return sequence(oid(OID.signedData), tlv(0xa0, signedData));
    },
  };
}

/** The first key entry of a PKCS#12 key store (the reference signs with it too): key and chain as PEM. */
export function readPkcs12KeyStore(file: string, password: string): { keyPem: string; chainPem: string[] } {
  let store;
  try {
    store = readPkcs12(readFileSync(file), password);
  } catch (e) {
    throw new Error(`cannot open the PKCS#12 key store ${file}: ${(e as Error).message}`);
  }
  const alias = store.aliases().find((a) => store.isKeyEntry(a));
  if (!alias) throw new Error(`the PKCS#12 key store ${file} holds no private key`);
  const key = store.getKey(alias, password)!;
  return { keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(), chainPem: (store.getCertificateChain(alias) ?? []).map((c) => c.toString()) };
}

/** The multipart/signed message: headers to add and the body, around the signed MIME entity (CRLF lines). */
export function signedMultipart(signer: SmimeSigner, entity: string): { headers: string[]; body: string } {
  const boundary = `----=_dsf_${randomBytes(12).toString('hex')}`;
  const signature = signer
    .signDetached(Buffer.from(entity, 'utf8'))
    .toString('base64')
    .replace(/.{1,76}/g, (l) => `${l}\r\n`);
  return {
    headers: [`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="${boundary}"`],
    body: [
      'This is an S/MIME signed message',
      '',
      `--${boundary}`,
      entity,
      `--${boundary}`,
      'Content-Type: application/pkcs7-signature; name=smime.p7s',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename=smime.p7s',
      '',
      signature,
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  };
}
