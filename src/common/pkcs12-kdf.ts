// The key derivation of PKCS#12 (RFC 7292, appendix B.2), shared by the PKCS#12 writer (demo users'
// browser certificates) and the reader behind the plugin API's key stores.
import { createHash } from 'node:crypto';

/** The password as PKCS#12's key derivation wants it: BMPString (UTF-16BE) with a terminating zero. */
export function bmpPassword(password: string): Buffer {
  const out = Buffer.alloc((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

function blockSize(hash: string): number {
  return hash === 'sha384' || hash === 'sha512' ? 128 : 64;
}

/** RFC 7292 appendix B.2. id: 1 key, 2 IV, 3 MAC key. */
export function pkcs12Kdf(hash: string, password: Buffer, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const v = blockSize(hash);
  const repeat = (data: Buffer) => {
    if (data.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(data.length / v));
    for (let i = 0; i < out.length; i++) out[i] = data[i % data.length]!;
    return out;
  };
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([repeat(salt), repeat(password)]);
  const output: Buffer[] = [];
  let produced = 0;
  while (produced < length) {
    let a = createHash(hash).update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash(hash).update(a).digest();
    output.push(a);
    produced += a.length;
    if (produced >= length) break;
    const b = Buffer.alloc(v);
    for (let k = 0; k < v; k++) b[k] = a[k % a.length]!;
    for (let block = 0; block < i.length; block += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[block + k]! + b[k]! + carry;
        i[block + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(output).subarray(0, length);
}
