// One key encapsulation mechanism: makes a fresh AES key for a public key, and recovers it with
// the private key from the encapsulation sent along.
import type { KeyObject } from 'node:crypto';

export interface Encapsulated {
  /** The AES key (32 bytes for AES-256). */
  key: Buffer;
  encapsulation: Buffer;
}

export interface KeyEncapsulation {
  /** Why `key` cannot be used with this mechanism, or undefined when it can. */
  unsupported(key: KeyObject): string | undefined;
  encapsulate(publicKey: KeyObject, keyLength: number): Encapsulated;
  /** Throws DecryptionError when the encapsulation is malformed. */
  decapsulate(privateKey: KeyObject, encapsulation: Buffer, keyLength: number): Buffer;
}
