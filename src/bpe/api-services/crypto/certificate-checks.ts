// Certificate checks of the reference's CertificateValidator: expiry, TLS client/server purpose,
// and chain validation as a Java PKIX trust manager does it (checkClientTrusted /
// checkServerTrusted with auth type "RSA"): a path from the first certificate through the given
// ones to a trusted certificate, every signature and date checked, issuers must be CAs, and the
// end-entity rules of the JDK's EndEntityChecker. No revocation checks (the JDK's default).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { X509Certificate } from 'node:crypto';
import { CertificateValidationError, type KeyStore } from '../../../plugin-api/services/crypto.ts';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

interface Extensions {
  /** undefined: no key usage extension. */
  keyUsage: number | undefined;
  /** undefined: no extended key usage extension. */
  extendedKeyUsage: string[] | undefined;
}

function extensions(certificate: X509Certificate): Extensions {
  const parsed = new x509.X509Certificate(certificate.raw);
  const ku = parsed.getExtension(x509.KeyUsagesExtension);
  const eku = parsed.getExtension(x509.ExtendedKeyUsageExtension);
  return { keyUsage: ku?.usages, extendedKeyUsage: eku?.usages.map(String) };
}

function notAfter(certificate: X509Certificate): Date {
  return new Date(certificate.validTo);
}

function notBefore(certificate: X509Certificate): Date {
  return new Date(certificate.validFrom);
}

export function isCertificateExpired(certificate: X509Certificate, now: Date = new Date()): boolean {
  return now.getTime() > notAfter(certificate).getTime();
}

/** digitalSignature and the given extended key usage, both present (the reference's test). */
function hasPurpose(certificate: X509Certificate, purpose: string): boolean {
  const { keyUsage, extendedKeyUsage } = extensions(certificate);
  return keyUsage !== undefined && (keyUsage & x509.KeyUsageFlags.digitalSignature) !== 0 && (extendedKeyUsage ?? []).includes(purpose);
}

export const isClientCertificate = (certificate: X509Certificate): boolean => hasPurpose(certificate, CLIENT_AUTH);
export const isServerCertificate = (certificate: X509Certificate): boolean => hasPurpose(certificate, SERVER_AUTH);

/** Trust anchors of a trust store as the JDK takes them: certificate entries and the first certificate of key entries. */
export function trustAnchors(trustStore: KeyStore): X509Certificate[] {
  const anchors: X509Certificate[] = [];
  for (const alias of trustStore.aliases()) {
    const certificate = trustStore.getCertificate(alias);
    if (certificate) anchors.push(certificate);
  }
  return anchors;
}

function describe(certificate: X509Certificate): string {
  return certificate.subject.replace(/\n/g, ', ');
}

function issuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** The path [leaf, ..., last below the anchor]; throws when none leads to an anchor. */
function buildPath(chain: readonly X509Certificate[], anchors: readonly X509Certificate[]): X509Certificate[] {
  const path: X509Certificate[] = [chain[0]!];
  const pool = chain.slice(1);
  for (let step = 0; step <= chain.length; step++) {
    const current = path[path.length - 1]!;
    if (anchors.some((a) => a.raw.equals(current.raw))) return path.slice(0, -1);
    if (anchors.some((a) => issuedBy(current, a))) return path;
    const next = pool.find((candidate) => !path.includes(candidate) && issuedBy(current, candidate));
    if (!next) break;
    path.push(next);
  }
  throw new CertificateValidationError(`PKIX path building failed: no trusted certificate issued "${describe(path[path.length - 1]!)}"`);
}

type Purpose = 'client' | 'server';

function checkEndEntity(certificate: X509Certificate, purpose: Purpose): void {
  const { keyUsage, extendedKeyUsage } = extensions(certificate);
  const flag = purpose === 'client' ? x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.keyEncipherment;
  if (keyUsage !== undefined && (keyUsage & flag) === 0) {
    throw new CertificateValidationError(
      purpose === 'client' ? 'KeyUsage does not allow digital signatures' : 'KeyUsage does not allow key encipherment (required for auth type RSA)',
    );
  }
  const wanted = purpose === 'client' ? CLIENT_AUTH : SERVER_AUTH;
  if (extendedKeyUsage !== undefined && !extendedKeyUsage.includes(wanted) && !extendedKeyUsage.includes(ANY_EXTENDED_KEY_USAGE)) {
    throw new CertificateValidationError(`Extended key usage does not permit use for TLS ${purpose} authentication`);
  }
}

export function validateCertificateChain(
  trustStore: KeyStore,
  certificateChain: X509Certificate | readonly X509Certificate[],
  purpose: Purpose,
  now: Date = new Date(),
): void {
  const chain = Array.isArray(certificateChain) ? certificateChain : [certificateChain as X509Certificate];
  if (chain.length === 0) throw new CertificateValidationError('empty certificate chain');
  const anchors = trustAnchors(trustStore);
  if (anchors.length === 0) throw new CertificateValidationError('the trust store holds no trusted certificate');
  const path = buildPath(chain, anchors);
  for (const [index, certificate] of path.entries()) {
    if (now.getTime() > notAfter(certificate).getTime()) throw new CertificateValidationError(`certificate "${describe(certificate)}" expired on ${certificate.validTo}`);
    if (now.getTime() < notBefore(certificate).getTime()) throw new CertificateValidationError(`certificate "${describe(certificate)}" not valid before ${certificate.validFrom}`);
    if (index > 0) {
      const { keyUsage } = extensions(certificate);
      if (!certificate.ca) throw new CertificateValidationError(`issuer "${describe(certificate)}" is not a CA`);
      if (keyUsage !== undefined && (keyUsage & x509.KeyUsageFlags.keyCertSign) === 0) {
        throw new CertificateValidationError(`issuer "${describe(certificate)}" may not sign certificates`);
      }
    }
  }
  checkEndEntity(chain[0]!, purpose);
}
