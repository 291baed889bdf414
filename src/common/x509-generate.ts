// A small PKI for tests and demo networks (not for production): a self-signed CA and the server,
// client and user certificates it issues. Keys are EC P-256 by default (fast to make, accepted by
// Node's TLS for client certificates); RSA 2048 is available for peers that need it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { thumbprintSha512 } from './x509.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const subtle = webcrypto.subtle;

// The library's typings name the DOM's CryptoKey types, which our Node-only lib setting lacks;
// Node's webcrypto keys are those objects at run time.
type LibraryKeyPair = x509.X509CertificateCreateSelfSignedParams['keys'];
type LibraryKey = x509.X509CertificateCreateWithKeyParams['signingKey'];

export type KeyAlgorithm = 'ec-p256' | 'rsa-2048';
export type CertificateKind = 'server' | 'client' | 'both';

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface CreateCaOptions {
  commonName: string;
  organization?: string;
  validDays?: number;
  /** Start of validity; default a few minutes ago (tolerates clock skew between sites). */
  validFrom?: Date;
  keyAlgorithm?: KeyAlgorithm;
}

export interface IssueCertificateOptions {
  commonName: string;
  kind: CertificateKind;
  organization?: string;
  /** Server certificates default to localhost and 127.0.0.1 when neither list is given. */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Put into the subject (emailAddress) and the SAN (rfc822Name); DSF matches users by it. */
  email?: string;
  /** Past or future dates make expired or not-yet-valid certificates for tests. */
  validFrom?: Date;
  validDays?: number;
  keyAlgorithm?: KeyAlgorithm;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-512 of the certificate's DER encoding, lowercase hex. */
  thumbprint: string;
}

const DEFAULT_CA_DAYS = 3650;
const DEFAULT_LEAF_DAYS = 825;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

interface KeyParameters {
  generate: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;
  /** What signing with this key means for WebCrypto and for the certificate's signature algorithm. */
  signing: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
  signature: webcrypto.Algorithm | webcrypto.EcdsaParams;
  isRsa: boolean;
}

function keyParameters(algorithm: KeyAlgorithm): KeyParameters {
  if (algorithm === 'rsa-2048') {
    const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return {
      generate: { ...rsa, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
      signing: rsa,
      signature: rsa,
      isRsa: true,
    };
  }
  return {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    signing: { name: 'ECDSA', namedCurve: 'P-256' },
    signature: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams,
    isRsa: false,
  };
}

export async function createCa(opts: CreateCaOptions): Promise<CertificateAuthority> {
  const params = keyParameters(opts.keyAlgorithm ?? 'ec-p256');
  const keys = await generateKeyPair(params);
  const { notBefore, notAfter } = validity(opts.validFrom, opts.validDays ?? DEFAULT_CA_DAYS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: distinguishedName(opts.commonName, opts.organization),
    keys: keys as unknown as LibraryKeyPair,
    notBefore,
    notAfter,
    signingAlgorithm: params.signature,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as LibraryKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

export async function issueCertificate(ca: CertificateAuthority, opts: IssueCertificateOptions): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caSigning = await importSigningKey(ca.keyPem);
  const params = keyParameters(opts.keyAlgorithm ?? 'ec-p256');
  const keys = await generateKeyPair(params);
  const { notBefore, notAfter } = validity(opts.validFrom, opts.validDays ?? DEFAULT_LEAF_DAYS);

  const usages: string[] = [];
  if (opts.kind !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (opts.kind !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);

  // ECDSA keys only sign; keyEncipherment is meaningful for RSA key transport alone.
  let keyUsage = x509.KeyUsageFlags.digitalSignature;
  if (params.isRsa) keyUsage |= x509.KeyUsageFlags.keyEncipherment;

  const altNames: x509.JsonGeneralName[] = [];
  let dnsNames = opts.dnsNames ?? [];
  let ipAddresses = opts.ipAddresses ?? [];
  if (opts.kind !== 'client' && dnsNames.length === 0 && ipAddresses.length === 0) {
    dnsNames = ['localhost'];
    ipAddresses = ['127.0.0.1'];
  }
  for (const name of dnsNames) altNames.push({ type: 'dns', value: name });
  for (const ip of ipAddresses) {
    if (!isIP(ip)) throw new Error(`not an IP address: ${ip}`);
    altNames.push({ type: 'ip', value: ip });
  }
  if (opts.email) altNames.push({ type: 'email', value: opts.email });

  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(keyUsage, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as LibraryKey),
    caKeyId
      ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
      : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));

  const cert = await x509.X509CertificateGenerator.create({
    subject: distinguishedName(opts.commonName, opts.organization, opts.email),
    issuer: caCert.subjectName,
    publicKey: keys.publicKey as unknown as LibraryKey,
    signingKey: caSigning.key as unknown as LibraryKey,
    signingAlgorithm: caSigning.signature,
    notBefore,
    notAfter,
    extensions,
  });
  const certPem = cert.toString('pem') + '\n';
  return { certPem, keyPem: await exportPrivateKeyPem(keys.privateKey), thumbprint: thumbprintSha512(certPem) };
}

/** Writes a private key readable by its owner only (mode 0600, also when the file existed). */
export function writePrivateKeyFile(path: string, keyPem: string): void {
  writeFileSync(path, keyPem, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function writeCertificateFile(path: string, certPem: string): void {
  writeFileSync(path, certPem, { mode: 0o644 });
}

function distinguishedName(commonName: string, organization?: string, email?: string): x509.Name {
  // Objects rather than plain strings: the library reads quotes inside plain string values as
  // quoting and would drop the rest of the value.
  const parts: x509.JsonAttributeAndValue[] = [{ CN: [{ utf8String: commonName }] }];
  if (organization) parts.push({ O: [{ utf8String: organization }] });
  if (email) parts.push({ E: [{ ia5String: email }] });
  return new x509.Name(parts);
}

function validity(validFrom: Date | undefined, validDays: number): { notBefore: Date; notAfter: Date } {
  const notBefore = validFrom ?? new Date(Date.now() - CLOCK_SKEW_MS);
  return { notBefore, notAfter: new Date(notBefore.getTime() + validDays * DAY_MS) };
}

async function generateKeyPair(params: KeyParameters): Promise<webcrypto.CryptoKeyPair> {
  return (await subtle.generateKey(params.generate, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function exportPrivateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/** Loads a CA key from PEM (PKCS#8, or the older RSA/EC encodings) for signing with WebCrypto. */
async function importSigningKey(keyPem: string): Promise<{ key: webcrypto.CryptoKey; signature: webcrypto.Algorithm | webcrypto.EcdsaParams }> {
  const keyObject = createPrivateKey(keyPem);
  const pkcs8 = keyObject.export({ format: 'der', type: 'pkcs8' });
  if (keyObject.asymmetricKeyType === 'rsa') {
    const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { key: await subtle.importKey('pkcs8', pkcs8, rsa, false, ['sign']), signature: rsa };
  }
  if (keyObject.asymmetricKeyType === 'ec') {
    const curves: Record<string, { namedCurve: string; hash: string }> = {
      prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
      secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
      secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' },
    };
    const curve = curves[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw new Error(`unsupported CA key curve: ${keyObject.asymmetricKeyDetails?.namedCurve}`);
    const key = await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: curve.namedCurve }, false, ['sign']);
    return { key, signature: { name: 'ECDSA', hash: curve.hash } as webcrypto.EcdsaParams };
  }
  throw new Error(`unsupported CA key type: ${keyObject.asymmetricKeyType}`);
}
