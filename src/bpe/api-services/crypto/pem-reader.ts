// PEM certificates and private keys, read as the reference's PemReader (Bouncy Castle PEMParser) does.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

interface PemObject {
  type: string;
  /** The whole block, headers included, as PEM text. */
  text: string;
  body: Buffer;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export function pemObjects(text: string): PemObject[] {
  const out: PemObject[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const content = match[2]!.split(/\r?\n/).filter((line) => line !== '' && !line.includes(':'));
    out.push({ type: match[1]!, text: match[0], body: Buffer.from(content.join(''), 'base64') });
  }
  return out;
}

const CERTIFICATE_TYPES = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);

function toCertificate(object: PemObject): X509Certificate {
  if (!CERTIFICATE_TYPES.has(object.type)) throw new Error(`PEM object ${object.type} is not a certificate`);
  try {
    return new X509Certificate(object.body);
  } catch (e) {
    throw new Error(`PEM certificate not parsable: ${(e as Error).message}`);
  }
}

export function readCertificate(text: string): X509Certificate {
  const [first] = pemObjects(text);
  if (!first) throw new Error('no PEM object found, expected a certificate');
  return toCertificate(first);
}

export function readCertificates(text: string): X509Certificate[] {
  return pemObjects(text).map(toCertificate);
}

const KEY_TYPES = new Set(['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);

export function readPrivateKey(text: string, password?: string): KeyObject {
  const [first] = pemObjects(text);
  if (!first) throw new Error('no PEM object found, expected a private key');
  if (!KEY_TYPES.has(first.type)) throw new Error(`PEM object ${first.type} not supported, expected a private key`);
  const encrypted = first.type === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(first.text);
  if (encrypted && (password === undefined || password === null)) {
    throw new Error(`${first.type === 'ENCRYPTED PRIVATE KEY' ? 'PKCS#8' : 'OpenSSL classic'} encrypted private key, password required`);
  }
  try {
    return createPrivateKey(encrypted ? { key: first.text, format: 'pem', passphrase: password } : { key: first.text, format: 'pem' });
  } catch (e) {
    throw new Error(`private key not readable${encrypted ? ' (wrong password?)' : ''}: ${(e as Error).message}`);
  }
}
