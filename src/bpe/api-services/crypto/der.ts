// A minimal DER reader: enough to walk PKCS#12 structures (tag, length, content, children).
export interface DerNode {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  tag: number;
  /** The content octets. */
  content: Buffer;
  /** Header plus content, as encoded. */
  encoded: Buffer;
}

export const DER = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  BMP_STRING: 0x1e,
  context: (n: number, constructed = true) => 0x80 | (constructed ? 0x20 : 0) | n,
} as const;

export function readNode(data: Buffer, offset = 0): DerNode {
  if (offset + 2 > data.length) throw new Error('DER: truncated');
  const tag = data[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: high tag numbers not supported');
  let length = data[offset + 1]!;
  let headerLength = 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new Error('DER: unsupported length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + data[offset + 2 + i]!;
    headerLength += bytes;
  }
  const end = offset + headerLength + length;
  if (end > data.length) throw new Error('DER: truncated');
  return { tag, content: data.subarray(offset + headerLength, end), encoded: data.subarray(offset, end) };
}

export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let offset = 0;
  while (offset < node.content.length) {
    const child = readNode(node.content, offset);
    out.push(child);
    offset += child.encoded.length;
  }
  return out;
}

export function expect(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node || node.tag !== tag) throw new Error(`DER: expected ${what}`);
  return node;
}

export function oid(node: DerNode | undefined): string {
  const content = expect(node, DER.OID, 'object identifier').content;
  const parts: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

export function integer(node: DerNode | undefined): number {
  const content = expect(node, DER.INTEGER, 'integer').content;
  let value = 0;
  for (const byte of content) value = value * 256 + byte;
  return value;
}
