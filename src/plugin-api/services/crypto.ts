// What a process plugin gets as `api.cryptoService`: the reference's process plugin API v2
// CryptoService (dev.dsf.bpe.v2.service.CryptoService) in TypeScript terms. Keys are Node
// KeyObjects, certificates Node X509Certificates, streams Node Readables.
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { SecureContext } from 'node:tls';

/** Bytes, or a stream of them (a Node Readable or any async iterable of chunks). */
export type ByteSource = Uint8Array | Readable | AsyncIterable<Uint8Array>;

/**
 * Key encapsulation with AES-256-GCM, in the reference's layout:
 * [encapsulation length (2 bytes, big-endian)] [encapsulation] [IV (12 bytes)] [AES-GCM ciphertext + 16-byte tag].
 */
export interface Kem {
  /** Encrypts bytes for the holder of `publicKey` (reference: `encrypt(byte[], PublicKey)`). */
  encrypt(data: Uint8Array, publicKey: KeyObject): Buffer;
  /** Encrypts a stream (reference: `encrypt(InputStream, PublicKey)`); memory use does not grow with its length. */
  encrypt(data: Readable | AsyncIterable<Uint8Array>, publicKey: KeyObject): Readable;
  /**
   * Decrypts bytes (reference: `decrypt(byte[], PrivateKey)`); throws `DecryptionError` when the
   * data was altered, truncated or encrypted for another key. Nothing is returned unverified.
   */
  decrypt(encrypted: Uint8Array, privateKey: KeyObject): Buffer;
  /**
   * Decrypts a stream (reference: `decrypt(InputStream, PrivateKey)`) without holding it whole.
   * GCM authenticates only at the end: the returned stream emits plaintext as it goes and ends
   * with a `DecryptionError` (never a normal end) when the tag does not verify, so treat what
   * was read as untrusted until the stream has ended normally.
   */
  decrypt(encrypted: Readable | AsyncIterable<Uint8Array>, privateKey: KeyObject): Readable;
}

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** Reference: a `java.security.KeyPairGenerator` already initialised for one algorithm. */
export interface KeyPairGenerator {
  /** `RSA` (4096 bit), `EC` (secp256r1, secp384r1, secp521r1), `X25519` or `X448`. */
  readonly algorithm: string;
  generateKeyPair(): Promise<KeyPair>;
}

/**
 * A key store in memory (reference: `java.security.KeyStore`): key entries (private key and
 * certificate chain) and trusted certificate entries, by alias.
 */
export interface KeyStore {
  /** `pkcs12` when read from a PKCS#12 file, `jks` when created by the service (as the reference does). */
  readonly type: 'pkcs12' | 'jks';
  aliases(): string[];
  isKeyEntry(alias: string): boolean;
  isCertificateEntry(alias: string): boolean;
  /** The trusted certificate, or the first certificate of a key entry's chain. */
  getCertificate(alias: string): X509Certificate | undefined;
  getCertificateChain(alias: string): X509Certificate[] | undefined;
  /** The private key of a key entry; throws `KeyStoreError` when `password` is not the entry's password. */
  getKey(alias: string, password: string): KeyObject | undefined;
}

/** A certificate or chain that the checks reject (reference: `java.security.cert.CertificateException`). */
export class CertificateValidationError extends Error {
  override readonly name = 'CertificateValidationError';
}

/** A key store that cannot be read or used (wrong password, damaged file, unsupported format). */
export class KeyStoreError extends Error {
  override readonly name = 'KeyStoreError';
}

/** Encrypted data that does not decrypt: altered, truncated, or meant for another key. */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
}

/** PEM text, its bytes, or a stream of them. */
export type PemSource = string | ByteSource;

export interface CryptoService {
  /** RSA-KEM with KDF2 (SHA-512) for AES-256-GCM; use with RSA key pairs. */
  createRsaKem(): Kem;
  /** DHKEM (RFC 9180) for AES-256-GCM; use with X25519, X448, secp256r1, secp384r1 and secp521r1 key pairs. */
  createEcDhKem(): Kem;

  createKeyPairGeneratorRsa4096AndInitialize(): KeyPairGenerator;
  createKeyPairGeneratorSecp256r1AndInitialize(): KeyPairGenerator;
  createKeyPairGeneratorSecp384r1AndInitialize(): KeyPairGenerator;
  createKeyPairGeneratorSecp521r1AndInitialize(): KeyPairGenerator;
  createKeyPairGeneratorX25519AndInitialize(): KeyPairGenerator;
  createKeyPairGeneratorX448AndInitialize(): KeyPairGenerator;

  /** The one PEM certificate in `pem`; rejects anything else first. */
  readCertificate(pem: PemSource): Promise<X509Certificate>;
  readCertificateFile(path: string): Promise<X509Certificate>;
  /** All PEM certificates in `pem`, in order; rejects when any PEM object is not a certificate. */
  readCertificates(pem: PemSource): Promise<X509Certificate[]>;
  readCertificatesFile(path: string): Promise<X509Certificate[]>;
  /**
   * The first private key in `pem`: PKCS#8 (encrypted or not), PKCS#1 RSA, SEC1 EC, or OpenSSL's
   * classic encrypted PEM. An encrypted key without `password` is an error, as in the reference.
   */
  readPrivateKey(pem: PemSource, password?: string): Promise<KeyObject>;
  readPrivateKeyFile(path: string, password?: string): Promise<KeyObject>;

  /** True when both keys are given and belong together (same check per algorithm as the reference). */
  isKeyPair(privateKey: KeyObject | undefined | null, publicKey: KeyObject | undefined | null): boolean;
  /** True when the certificate's notAfter lies in the past. */
  isCertificateExpired(certificate: X509Certificate): boolean;
  /** True when key usage has digitalSignature and extended key usage has TLS client authentication. */
  isClientCertificate(certificate: X509Certificate): boolean;
  /** True when key usage has digitalSignature and extended key usage has TLS server authentication. */
  isServerCertificate(certificate: X509Certificate): boolean;
  /** Throws `CertificateValidationError` unless the chain leads to a certificate of `trustStore` and its first certificate may authenticate a TLS client. */
  validateClientCertificate(trustStore: KeyStore, certificateChain: X509Certificate | readonly X509Certificate[]): void;
  /** As validateClientCertificate, for a TLS server (the reference checks with auth type RSA). */
  validateServerCertificate(trustStore: KeyStore, certificateChain: X509Certificate | readonly X509Certificate[]): void;

  /** A key store with one key entry (alias: the first certificate's subject DN). */
  createKeyStoreForPrivateKeyAndCertificateChain(key: KeyObject, password: string, chain: X509Certificate | readonly X509Certificate[]): KeyStore;
  /** A key store with one trusted certificate entry per certificate (alias: its subject DN). */
  createKeyStoreForTrustedCertificates(certificates: X509Certificate | readonly X509Certificate[]): KeyStore;
  /** Java KeyStore (JKS) files are not read: throws `KeyStoreError` saying how to convert one to PKCS#12. */
  readKeyStoreJks(data: ByteSource, password?: string): Promise<KeyStore>;
  readKeyStoreJksFile(path: string, password?: string): Promise<KeyStore>;
  /** A PKCS#12 file; with a password its MAC is checked and encrypted contents are decrypted. */
  readKeyStorePkcs12(data: ByteSource, password?: string): Promise<KeyStore>;
  readKeyStorePkcs12File(path: string, password?: string): Promise<KeyStore>;

  /** TLS settings that trust `trustStore`'s certificates and, when given, authenticate with `keyStore`'s key entry. */
  createSslContext(trustStore: KeyStore, keyStore?: KeyStore, keyStorePassword?: string): SecureContext;
}
