// X.509 helpers for identities: thumbprints, PEM handling, chain checks and the client certificate a
// reverse proxy forwards in a header. DSF identifies an organisation by the SHA-512 thumbprint
// (lowercase hex of the DER encoding) of its client certificate.
import { createHash, X509Certificate } from 'node:crypto';

export interface CertificateInfo {
  /** Subject DN as Node prints it, one `key=value` per line. */
  subject: string;
  issuer: string;
  commonName: string | undefined;
  /** From the subject's emailAddress, else the first SAN rfc822Name. */
  email: string | undefined;
  notBefore: Date;
  notAfter: Date;
  /** SHA-512 of the DER encoding, lowercase hex (128 characters). */
  thumbprint: string;
  der: Buffer;
}

export type ChainRejectionReason = 'expired' | 'not-yet-valid' | 'untrusted-issuer' | 'invalid-certificate';

export interface ChainRejection {
  reason: ChainRejectionReason;
  message: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

export function thumbprintSha512(certPemOrDer: string | Buffer): string {
  return createHash('sha512').update(toDer(certPemOrDer)).digest('hex');
}

/** DER bytes of a certificate given as PEM text, a Buffer holding PEM text, or DER. */
export function toDer(certPemOrDer: string | Buffer): Buffer {
  if (Buffer.isBuffer(certPemOrDer) && !looksLikePem(certPemOrDer)) return certPemOrDer;
  const text = certPemOrDer.toString('utf8');
  const [first] = splitPemBundle(text);
  if (!first) throw new Error('no PEM certificate found');
  return pemBodyToDer(first);
}

export function parseCertificatePem(pem: string | Buffer): CertificateInfo {
  const der = toDer(pem);
  const cert = new X509Certificate(der);
  // The legacy object holds the attribute values unescaped (cert.subject escapes , " + = etc.).
  const subject = cert.toLegacyObject().subject as unknown as Record<string, string | string[] | undefined>;
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    commonName: dnAttribute(subject, 'CN'),
    email: dnAttribute(subject, 'emailAddress') ?? sanEmails(cert.subjectAltName)[0],
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    thumbprint: createHash('sha512').update(der).digest('hex'),
    der,
  };
}

/** Each certificate of a PEM file that may hold several (a CA bundle, a chain), normalised to PEM. */
export function splitPemBundle(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(PEM_CERTIFICATE)) {
    out.push(derToPem(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

export function derToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * True when `certPem` was issued (and signed) by one of `trustedCaPems` (files may hold several
 * certificates; intermediates count as trusted too) and both it and its issuer are valid at `now`;
 * otherwise why not.
 * Check the result with `=== true`: a rejection is an object.
 */
export function verifyChain(certPem: string | Buffer, trustedCaPems: readonly (string | Buffer)[], now: Date = new Date()): true | ChainRejection {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(toDer(certPem));
  } catch (e) {
    return { reason: 'invalid-certificate', message: `not a certificate: ${(e as Error).message}` };
  }
  const trusted: X509Certificate[] = [];
  for (const pem of trustedCaPems) {
    for (const one of splitPemBundle(pem.toString('utf8'))) trusted.push(new X509Certificate(one));
  }

  const validity = checkValidity(leaf, now, 'certificate');
  if (validity !== true) return validity;
  // Every trusted certificate is a trust anchor (as in a Java trust store): the leaf itself, or
  // the one that issued it and whose key verifies its signature.
  if (trusted.some((t) => t.raw.equals(leaf.raw))) return true;
  const issuer = trusted.find((t) => t.ca && leaf.checkIssued(t) && leaf.verify(t.publicKey));
  if (!issuer) {
    return { reason: 'untrusted-issuer', message: `no trusted CA issued "${oneLine(leaf.subject)}" (issuer "${oneLine(leaf.issuer)}")` };
  }
  return checkValidity(issuer, now, 'issuing CA');
}

/**
 * The client certificate a reverse proxy forwards in a header (X-ClientCert), as PEM; undefined when
 * the value holds no certificate. Accepts nginx's `$ssl_client_escaped_cert` (URL-escaped PEM),
 * Apache's `%{SSL_CLIENT_CERT}s` (PEM with the newlines turned into spaces), nginx's older
 * `$ssl_client_cert` (tab-indented continuation lines), plain PEM, and bare base64 DER.
 */
export function headerCertificateToPem(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  let text = raw.trim();
  if (text === '' || text === '(null)') return undefined;
  if (/%[0-9A-Fa-f]{2}/.test(text)) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return undefined;
    }
  }
  let base64: string;
  const markers = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  if (markers) base64 = markers[1]!;
  else if (/^[A-Za-z0-9+/=\s]+$/.test(text)) base64 = text;
  else return undefined;
  base64 = base64.replace(/\s+/g, '');
  if (base64.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const der = Buffer.from(base64, 'base64');
  try {
    new X509Certificate(der);
  } catch {
    return undefined;
  }
  return derToPem(der);
}

function checkValidity(cert: X509Certificate, now: Date, what: string): true | ChainRejection {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const name = `${what} "${oneLine(cert.subject)}"`;
  if (now.getTime() < notBefore.getTime()) {
    return { reason: 'not-yet-valid', message: `${name} is not valid before ${notBefore.toISOString()}` };
  }
  if (now.getTime() > notAfter.getTime()) {
    return { reason: 'expired', message: `${name} expired at ${notAfter.toISOString()}` };
  }
  return true;
}

function looksLikePem(buf: Buffer): boolean {
  return buf.subarray(0, 64).toString('latin1').includes('-----BEGIN');
}

function pemBodyToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

function dnAttribute(dn: Record<string, string | string[] | undefined>, key: string): string | undefined {
  const value = dn[key];
  return Array.isArray(value) ? value[0] : value;
}

function sanEmails(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(', ')
    .filter((entry) => entry.startsWith('email:'))
    .map((entry) => entry.slice('email:'.length))
    .map(unquoteSanValue);
}

// Node prints SAN values holding separators as JSON strings.
function unquoteSanValue(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    return String(JSON.parse(value));
  } catch {
    return value;
  }
}

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}
