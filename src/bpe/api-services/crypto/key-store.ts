// Key stores in memory: key entries (private key, its password, certificate chain) and trusted
// certificate entries. Aliases are compared case-insensitively, as Java's JKS and PKCS#12 stores do.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { KeyStoreError, type KeyStore } from '../../../plugin-api/services/crypto.ts';

type Entry =
  | { kind: 'key'; alias: string; key: KeyObject; password: string; chain: X509Certificate[] }
  | { kind: 'certificate'; alias: string; certificate: X509Certificate };

export class MemoryKeyStore implements KeyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly type: 'pkcs12' | 'jks') {}

  setKeyEntry(alias: string, key: KeyObject, password: string, chain: readonly X509Certificate[]): void {
    if (chain.length === 0) throw new KeyStoreError('certificate chain empty');
    this.entries.set(alias.toLowerCase(), { kind: 'key', alias, key, password, chain: [...chain] });
  }

  setCertificateEntry(alias: string, certificate: X509Certificate): void {
    this.entries.set(alias.toLowerCase(), { kind: 'certificate', alias, certificate });
  }

  aliases(): string[] {
    return [...this.entries.values()].map((e) => e.alias);
  }

  isKeyEntry(alias: string): boolean {
    return this.entries.get(alias.toLowerCase())?.kind === 'key';
  }

  isCertificateEntry(alias: string): boolean {
    return this.entries.get(alias.toLowerCase())?.kind === 'certificate';
  }

  getCertificate(alias: string): X509Certificate | undefined {
    const entry = this.entries.get(alias.toLowerCase());
    if (!entry) return undefined;
    return entry.kind === 'key' ? entry.chain[0] : entry.certificate;
  }

  getCertificateChain(alias: string): X509Certificate[] | undefined {
    const entry = this.entries.get(alias.toLowerCase());
    return entry?.kind === 'key' ? [...entry.chain] : undefined;
  }

  getKey(alias: string, password: string): KeyObject | undefined {
    const entry = this.entries.get(alias.toLowerCase());
    if (entry?.kind !== 'key') return undefined;
    if (entry.password !== password) throw new KeyStoreError(`wrong password for the key of entry "${entry.alias}"`);
    return entry.key;
  }
}
