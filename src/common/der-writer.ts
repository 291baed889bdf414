// A few DER (X.690) encoders for the structures we write by hand: the demo users' PKCS#12 files
// (pkcs12.ts) and the BPE's S/MIME signatures (bpe/services/smime-signer.ts).

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag]), length(content.length), content]);
export const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
/** SET with the items in the order given (PKCS#12 attributes). */
export const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
/** DER SET OF: elements sorted by their encodings. */
export const setOf = (...items: Buffer[]) => tlv(0x31, Buffer.concat([...items].sort(Buffer.compare)));
export const octetString = (b: Buffer) => tlv(0x04, b);
export const explicit0 = (content: Buffer) => tlv(0xa0, content);
export const nul = Buffer.from([0x05, 0x00]);

/** A non-negative INTEGER. */
export function integer(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (!bytes.length || bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
