// Privacy-preserving encoding of quasi-identifiers: a cryptographic long-term key (CLK), one Bloom filter
// per record into which the bigrams of every field are hashed with a keyed HMAC (double hashing, the
// field name as part of the input so equal bigrams of different fields set different bits). Only holders
// of the key can encode; the filter does not contain the plain values, yet similar values give similar
// filters (Dice similarity), so records can be linked despite typos.
import { createHmac } from 'node:crypto';

export interface EncodingSettings {
  /** Secret shared by the sites that encode (never by the linking party). */
  key: string | Buffer;
  /** Bits of the filter (default 2048; a multiple of 32). About 30 bigrams a record at 10 bits each fill a seventh of it: unrelated records stay far apart. */
  length?: number;
  /** Bits set per bigram (default 10). */
  hashCount?: number;
}

export type QuasiIdentifiers = Readonly<Record<string, string | undefined>>;

export interface BloomFilter {
  bits: Uint32Array;
  /** Number of set bits. */
  cardinality: number;
}

/** Upper case, without diacritics (ß as SS), only letters, digits and single spaces. */
export function normalize(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/ß/g, 'SS')
    .toUpperCase()
    .replace(/[^A-Z0-9 ]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Bigrams of the value padded with a space at both ends ("_A", "AB", "B_"). */
export function bigrams(value: string): string[] {
  const padded = ` ${normalize(value)} `;
  if (padded.trim() === '') return [];
  const out: string[] = [];
  for (let i = 0; i < padded.length - 1; i++) out.push(padded.slice(i, i + 2));
  return out;
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function encodeRecord(record: QuasiIdentifiers, settings: EncodingSettings): BloomFilter {
  const length = settings.length ?? 2048;
  const hashCount = settings.hashCount ?? 10;
  if (length <= 0 || length % 32 !== 0) throw new Error(`filter length must be a positive multiple of 32, got ${length}`);
  if (!Number.isInteger(hashCount) || hashCount < 1) throw new Error(`hash count must be a positive integer, got ${hashCount}`);
  const bits = new Uint32Array(length / 32);
  for (const field of Object.keys(record).sort()) {
    const value = record[field];
    if (!value) continue;
    for (const gram of bigrams(value)) {
      const digest = createHmac('sha256', settings.key).update(`${field}\u0000${gram}`).digest();
      // Double hashing: positions h1 + i*h2 (h2 odd so the positions differ for a power-of-two length).
      const h1 = digest.readUInt32BE(0);
      const h2 = digest.readUInt32BE(4) | 1;
      for (let i = 0; i < hashCount; i++) {
        const position = (h1 + Math.imul(i, h2)) >>> 0;
        const bit = position % length;
        bits[bit >>> 5]! |= 1 << (bit & 31);
      }
    }
  }
  let cardinality = 0;
  for (const word of bits) cardinality += popcount32(word);
  return { bits, cardinality };
}

/** Dice coefficient 2|A∩B| / (|A|+|B|) of two filters of the same length (0 for two empty ones). */
export function dice(a: BloomFilter, b: BloomFilter): number {
  if (a.bits.length !== b.bits.length) throw new Error('filters of different lengths');
  const sum = a.cardinality + b.cardinality;
  if (sum === 0) return 0;
  let common = 0;
  for (let i = 0; i < a.bits.length; i++) common += popcount32(a.bits[i]! & b.bits[i]!);
  return (2 * common) / sum;
}

/** The filter as base64 (what a site sends), and back. */
export function toBase64(filter: BloomFilter): string {
  return Buffer.from(filter.bits.buffer, filter.bits.byteOffset, filter.bits.byteLength).toString('base64');
}

export function fromBase64(text: string): BloomFilter {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new Error('a filter is a whole number of 32-bit words');
  const bits = new Uint32Array(bytes.length / 4);
  for (let i = 0; i < bits.length; i++) bits[i] = bytes.readUInt32LE(i * 4);
  let cardinality = 0;
  for (const word of bits) cardinality += popcount32(word);
  return { bits, cardinality };
}
