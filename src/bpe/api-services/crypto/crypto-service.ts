// The plugin API's CryptoService (reference: dev.dsf.bpe.v2.service.CryptoServiceImpl on
// crypto-utils 5): KEMs, key pairs, PEM reading, certificate checks, key stores, TLS contexts.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { KeyStoreError, type ByteSource, type CryptoService, type KeyStore, type PemSource } from '../../../plugin-api/services/crypto.ts';
import { readAll, readSmallFile } from '../byte-source.ts';
import { validateCertificateChain, isCertificateExpired, isClientCertificate, isServerCertificate } from './certificate-checks.ts';
import { ecDhKem } from './dh-kem.ts';
import { createKem } from './kem-aes-gcm.ts';
import { isKeyPair, rsa4096, secp256r1, secp384r1, secp521r1, x25519, x448 } from './key-pairs.ts';
import { MemoryKeyStore } from './key-store.ts';
import { readCertificate, readCertificates, readPrivateKey } from './pem-reader.ts';
import { readPkcs12 } from './pkcs12-reader.ts';
import { rsaKem } from './rsa-kem.ts';

async function pemText(source: PemSource): Promise<string> {
  return typeof source === 'string' ? source : (await readAll(source)).toString('utf8');
}

function list(certificates: X509Certificate | readonly X509Certificate[]): X509Certificate[] {
  return Array.isArray(certificates) ? [...certificates] : [certificates as X509Certificate];
}

/** The alias the reference gives an entry: the certificate's subject DN. */
function aliasOf(certificate: X509Certificate): string {
  return new x509.X509Certificate(certificate.raw).subject;
}

const JKS_MESSAGE =
  'Java KeyStore (JKS) files are not supported; convert it to PKCS#12: keytool -importkeystore -srckeystore store.jks -destkeystore store.p12 -deststoretype pkcs12';

function toPem(certificate: X509Certificate): string {
  return certificate.toString();
}

export function createSslContext(trustStore: KeyStore, keyStore?: KeyStore, keyStorePassword?: string): SecureContext {
  const ca = trustStore.aliases().flatMap((alias) => {
    const certificate = trustStore.getCertificate(alias);
    return certificate ? [toPem(certificate)] : [];
  });
  if (!keyStore) return createSecureContext({ ca });
  const alias = keyStore.aliases().find((a) => keyStore.isKeyEntry(a));
  if (!alias) throw new KeyStoreError('the key store has no key entry');
  if (keyStorePassword === undefined) throw new KeyStoreError('key store password required');
  const key = keyStore.getKey(alias, keyStorePassword)!;
  const chain = keyStore.getCertificateChain(alias) ?? [];
  return createSecureContext({
    ca,
    key: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: chain.map(toPem).join(''),
  });
}

export function createCryptoService(): CryptoService {
  return {
    createRsaKem: () => createKem(rsaKem),
    createEcDhKem: () => createKem(ecDhKem),

    createKeyPairGeneratorRsa4096AndInitialize: rsa4096,
    createKeyPairGeneratorSecp256r1AndInitialize: secp256r1,
    createKeyPairGeneratorSecp384r1AndInitialize: secp384r1,
    createKeyPairGeneratorSecp521r1AndInitialize: secp521r1,
    createKeyPairGeneratorX25519AndInitialize: x25519,
    createKeyPairGeneratorX448AndInitialize: x448,

    readCertificate: async (pem) => readCertificate(await pemText(pem)),
    readCertificateFile: async (path) => readCertificate((await readSmallFile(path)).toString('utf8')),
    readCertificates: async (pem) => readCertificates(await pemText(pem)),
    readCertificatesFile: async (path) => readCertificates((await readSmallFile(path)).toString('utf8')),
    readPrivateKey: async (pem, password) => readPrivateKey(await pemText(pem), password),
    readPrivateKeyFile: async (path, password) => readPrivateKey((await readSmallFile(path)).toString('utf8'), password),

    isKeyPair,
    isCertificateExpired: (certificate) => isCertificateExpired(certificate),
    isClientCertificate,
    isServerCertificate,
    validateClientCertificate: (trustStore, chain) => validateCertificateChain(trustStore, chain, 'client'),
    validateServerCertificate: (trustStore, chain) => validateCertificateChain(trustStore, chain, 'server'),

    createKeyStoreForPrivateKeyAndCertificateChain(key: KeyObject, password: string, chain) {
      const certificates = list(chain);
      if (certificates.length === 0) throw new KeyStoreError('chain empty');
      if (password === undefined || password === null) throw new KeyStoreError('password required');
      const store = new MemoryKeyStore('jks');
      store.setKeyEntry(aliasOf(certificates[0]!), key, password, certificates);
      return store;
    },
    createKeyStoreForTrustedCertificates(certificates) {
      const all = list(certificates);
      if (all.length === 0) throw new KeyStoreError('certificates empty');
      const store = new MemoryKeyStore('jks');
      for (const certificate of all) store.setCertificateEntry(aliasOf(certificate), certificate);
      return store;
    },
    readKeyStoreJks: async () => {
      throw new KeyStoreError(JKS_MESSAGE);
    },
    readKeyStoreJksFile: async () => {
      throw new KeyStoreError(JKS_MESSAGE);
    },
    readKeyStorePkcs12: async (data: ByteSource, password?: string) => readPkcs12(await readAll(data), password),
    readKeyStorePkcs12File: async (path: string, password?: string) => readPkcs12(await readSmallFile(path), password),

    createSslContext,
  };
}
