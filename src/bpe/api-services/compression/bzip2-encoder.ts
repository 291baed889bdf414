// A bzip2 compressor written here: npm has no maintained pure-JS bzip2 encoder under a licence we
// can ship (compressjs is GPL; the WASM builds hook process-wide exception handlers). It writes
// the format of bzip2 1.0 / commons-compress: "BZh" + block size, blocks of at most
// blockSize * 100k - 19 run-length-encoded bytes, each Burrows-Wheeler transformed, move-to-front
// and zero-run coded, Huffman coded with 2-6 tables chosen per 50 symbols; then the end marker and
// the combined CRC. One block is held at a time, so memory is bounded by the block size.
import { Transform, type TransformCallback } from 'node:stream';

const BLOCK_MAGIC = [0x314159, 0x265359];
const END_MAGIC = [0x177245, 0x385090];
const GROUP_SIZE = 50;
const MAX_CODE_LENGTH = 17;
const RUNA = 0;
const RUNB = 1;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** Bits, most significant first, into bytes; whole bytes are taken out after each block. */
class BitWriter {
  private bytes = new Uint8Array(1 << 16);
  private length = 0;
  private buffer = 0;
  private count = 0;

  write(bits: number, value: number): void {
    // At most 24 bits at a time keeps `buffer` within 32 bits.
    this.buffer = (this.buffer << bits) | (value & ((1 << bits) - 1));
    this.count += bits;
    while (this.count >= 8) {
      this.count -= 8;
      this.push((this.buffer >>> this.count) & 0xff);
    }
    this.buffer &= (1 << this.count) - 1;
  }

  write32(value: number): void {
    this.write(16, value >>> 16);
    this.write(16, value & 0xffff);
  }

  /** Pads the last byte with zero bits. */
  finish(): void {
    if (this.count > 0) this.write(8 - this.count, 0);
  }

  take(): Buffer {
    const out = Buffer.from(this.bytes.subarray(0, this.length));
    this.length = 0;
    return out;
  }

  private push(byte: number): void {
    if (this.length === this.bytes.length) {
      const bigger = new Uint8Array(this.bytes.length * 2);
      bigger.set(this.bytes);
      this.bytes = bigger;
    }
    this.bytes[this.length++] = byte;
  }
}

/** Sorted cyclic rotations of `block` (prefix doubling with counting sorts, O(n log n)). */
function sortRotations(block: Uint8Array, n: number): Int32Array {
  const sa = new Int32Array(n);
  const rank = new Int32Array(n);
  const next = new Int32Array(n);
  const tmp = new Int32Array(n);
  const counts = new Int32Array(Math.max(256, n) + 1);
  for (let i = 0; i < n; i++) counts[block[i]! + 1]!++;
  for (let i = 1; i <= 256; i++) counts[i]! += counts[i - 1]!;
  for (let i = 0; i < n; i++) sa[counts[block[i]!]!++] = i;
  let classes = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && block[sa[i]!] !== block[sa[i - 1]!]) classes++;
    rank[sa[i]!] = classes;
  }
  classes++;
  for (let k = 1; k < n && classes < n; k *= 2) {
    // Order by the second half: rotation i - k sorted by rank[i].
    for (let i = 0; i < n; i++) {
      let j = sa[i]! - k;
      if (j < 0) j += n;
      tmp[i] = j;
    }
    counts.fill(0, 0, classes + 1);
    for (let i = 0; i < n; i++) counts[rank[tmp[i]!]! + 1]!++;
    for (let i = 1; i <= classes; i++) counts[i]! += counts[i - 1]!;
    for (let i = 0; i < n; i++) sa[counts[rank[tmp[i]!]!]!++] = tmp[i]!;
    next[sa[0]!] = 0;
    classes = 1;
    for (let i = 1; i < n; i++) {
      const a = sa[i - 1]!;
      const b = sa[i]!;
      let ak = a + k;
      if (ak >= n) ak -= n;
      let bk = b + k;
      if (bk >= n) bk -= n;
      if (rank[a] !== rank[b] || rank[ak] !== rank[bk]) classes++;
      next[b] = classes - 1;
    }
    rank.set(next);
  }
  return sa;
}

/** Code lengths of at most `maxLength` bits for every symbol (absent symbols count as rare). */
function codeLengths(frequencies: Int32Array, alphaSize: number, maxLength: number): Uint8Array {
  const weights = new Float64Array(alphaSize);
  for (let i = 0; i < alphaSize; i++) weights[i] = Math.max(1, frequencies[i]!);
  for (;;) {
    const lengths = huffmanLengths(weights, alphaSize);
    if (lengths.every((l) => l <= maxLength)) return lengths;
    // As bzip2 does: flatten the weights and try again.
    for (let i = 0; i < alphaSize; i++) weights[i] = 1 + Math.floor(weights[i]! / 2);
  }
}

function huffmanLengths(weights: Float64Array, alphaSize: number): Uint8Array {
  // Nodes 0..alphaSize-1 are leaves; parents follow. A simple binary heap on weight.
  const parent = new Int32Array(alphaSize * 2).fill(-1);
  const weight = new Float64Array(alphaSize * 2);
  weight.set(weights.subarray(0, alphaSize));
  const heap: number[] = [];
  const less = (a: number, b: number) => weight[a]! < weight[b]! || (weight[a] === weight[b] && a < b);
  const push = (node: number) => {
    heap.push(node);
    for (let i = heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  for (let i = 0; i < alphaSize; i++) push(i);
  let nodes = alphaSize;
  while (heap.length > 1) {
    const a = pop();
    const b = pop();
    weight[nodes] = weight[a]! + weight[b]!;
    parent[a] = nodes;
    parent[b] = nodes;
    push(nodes++);
  }
  const lengths = new Uint8Array(alphaSize);
  for (let i = 0; i < alphaSize; i++) {
    let depth = 0;
    for (let node = i; parent[node]! >= 0; node = parent[node]!) depth++;
    lengths[i] = Math.max(1, depth);
  }
  return lengths;
}

/** Canonical codes as bzip2 assigns them: by length, then by symbol. */
function assignCodes(lengths: Uint8Array, alphaSize: number): Int32Array {
  const codes = new Int32Array(alphaSize);
  let code = 0;
  for (let length = 1; length <= MAX_CODE_LENGTH; length++) {
    for (let i = 0; i < alphaSize; i++) if (lengths[i] === length) codes[i] = code++;
    code <<= 1;
  }
  return codes;
}

/** Block sort, MTF/zero runs and Huffman coding of one block into `out`. */
function writeBlock(out: BitWriter, block: Uint8Array, n: number, crc: number): void {
  const sa = sortRotations(block, n);
  let origPtr = 0;
  const last = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const start = sa[i]!;
    if (start === 0) origPtr = i;
    last[i] = block[start === 0 ? n - 1 : start - 1]!;
  }

  const inUse = new Array<boolean>(256).fill(false);
  for (let i = 0; i < n; i++) inUse[last[i]!] = true;
  const unseqToSeq = new Uint8Array(256);
  let nInUse = 0;
  for (let i = 0; i < 256; i++) if (inUse[i]) unseqToSeq[i] = nInUse++;
  const alphaSize = nInUse + 2;
  const endOfBlock = nInUse + 1;

  // Move-to-front with zero runs as RUNA/RUNB (bijective base 2).
  const symbols = new Uint16Array(n * 2 + 2);
  let count = 0;
  const order = new Uint8Array(256);
  for (let i = 0; i < nInUse; i++) order[i] = i;
  let zeros = 0;
  const flushZeros = () => {
    if (zeros === 0) return;
    zeros--;
    for (;;) {
      symbols[count++] = zeros & 1 ? RUNB : RUNA;
      if (zeros < 2) break;
      zeros = (zeros - 2) >> 1;
    }
    zeros = 0;
  };
  for (let i = 0; i < n; i++) {
    const value = unseqToSeq[last[i]!]!;
    if (order[0] === value) {
      zeros++;
      continue;
    }
    flushZeros();
    let j = 1;
    let previous = order[0]!;
    while (order[j] !== value) {
      const t = order[j]!;
      order[j] = previous;
      previous = t;
      j++;
    }
    order[j] = previous;
    order[0] = value;
    symbols[count++] = j + 1;
  }
  flushZeros();
  symbols[count++] = endOfBlock;

  const { tables, selectors } = chooseTables(symbols, count, alphaSize);

  out.write(24, BLOCK_MAGIC[0]!);
  out.write(24, BLOCK_MAGIC[1]!);
  out.write32(crc);
  out.write(1, 0); // not randomised
  out.write(24, origPtr);

  // Which bytes occur: 16 ranges, then 16 bits for each range in use.
  let ranges = 0;
  for (let r = 0; r < 16; r++) for (let k = 0; k < 16; k++) if (inUse[r * 16 + k]) ranges |= 0x8000 >> r;
  out.write(16, ranges);
  for (let r = 0; r < 16; r++) {
    if (!(ranges & (0x8000 >> r))) continue;
    let bits = 0;
    for (let k = 0; k < 16; k++) if (inUse[r * 16 + k]) bits |= 0x8000 >> k;
    out.write(16, bits);
  }

  out.write(3, tables.length);
  out.write(15, selectors.length);
  const selectorOrder = tables.map((_, i) => i);
  for (const selector of selectors) {
    const position = selectorOrder.indexOf(selector);
    for (let k = 0; k < position; k++) out.write(1, 1);
    out.write(1, 0);
    selectorOrder.splice(position, 1);
    selectorOrder.unshift(selector);
  }

  for (const lengths of tables) {
    let current = lengths[0]!;
    out.write(5, current);
    for (let i = 0; i < alphaSize; i++) {
      while (current < lengths[i]!) {
        out.write(2, 2);
        current++;
      }
      while (current > lengths[i]!) {
        out.write(2, 3);
        current--;
      }
      out.write(1, 0);
    }
  }

  const codes = tables.map((lengths) => assignCodes(lengths, alphaSize));
  for (let g = 0; g < selectors.length; g++) {
    const table = selectors[g]!;
    const lengths = tables[table]!;
    const tableCodes = codes[table]!;
    const end = Math.min(count, (g + 1) * GROUP_SIZE);
    for (let i = g * GROUP_SIZE; i < end; i++) out.write(lengths[symbols[i]!]!, tableCodes[symbols[i]!]!);
  }
}

/** bzip2's table choice: an initial split by frequency, then four rounds of refinement. */
function chooseTables(symbols: Uint16Array, count: number, alphaSize: number): { tables: Uint8Array[]; selectors: number[] } {
  const nGroups = count < 200 ? 2 : count < 600 ? 3 : count < 1200 ? 4 : count < 2400 ? 5 : 6;
  const frequencies = new Int32Array(alphaSize);
  for (let i = 0; i < count; i++) frequencies[symbols[i]!]!++;

  const tables: Uint8Array[] = [];
  let remaining = count;
  let low = 0;
  for (let part = nGroups; part > 0; part--) {
    const target = remaining / part;
    let high = low - 1;
    let sum = 0;
    while (sum < target && high < alphaSize - 1) sum += frequencies[++high]!;
    if (high > low && part !== nGroups && part !== 1 && (nGroups - part) % 2 === 1) sum -= frequencies[high--]!;
    const lengths = new Uint8Array(alphaSize);
    for (let v = 0; v < alphaSize; v++) lengths[v] = v >= low && v <= high ? 0 : 15;
    tables.push(lengths);
    low = high + 1;
    remaining -= sum;
  }

  const groups = Math.ceil(count / GROUP_SIZE);
  const selectors = new Array<number>(groups).fill(0);
  for (let iteration = 0; iteration < 4; iteration++) {
    const tableFrequencies = tables.map(() => new Int32Array(alphaSize));
    for (let g = 0; g < groups; g++) {
      const end = Math.min(count, (g + 1) * GROUP_SIZE);
      let best = 0;
      let bestCost = Infinity;
      for (let t = 0; t < tables.length; t++) {
        let cost = 0;
        for (let i = g * GROUP_SIZE; i < end; i++) cost += tables[t]![symbols[i]!]!;
        if (cost < bestCost) {
          bestCost = cost;
          best = t;
        }
      }
      selectors[g] = best;
      for (let i = g * GROUP_SIZE; i < end; i++) tableFrequencies[best]![symbols[i]!]!++;
    }
    for (let t = 0; t < tables.length; t++) tables[t] = codeLengths(tableFrequencies[t]!, alphaSize, MAX_CODE_LENGTH);
  }
  return { tables, selectors };
}

/** A Transform that bzip2-compresses what is written to it; `blockSize` 1-9 (100k units). */
export function createBzip2Compressor(blockSize = 9): Transform {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 9) throw new RangeError('blockSize < 1 or > 9');
  const maxBlock = blockSize * 100000 - 19;
  const block = new Uint8Array(blockSize * 100000);
  let length = 0;
  let crc = 0xffffffff;
  let combined = 0;
  let runByte = -1;
  let runLength = 0;
  const out = new BitWriter();
  out.write(24, 0x425a68); // "BZh"
  out.write(8, 0x30 + blockSize);

  const flushRun = () => {
    if (runLength === 0) return;
    for (let i = 0; i < runLength; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ runByte) & 0xff]!) >>> 0;
    const literal = Math.min(runLength, 4);
    for (let i = 0; i < literal; i++) block[length++] = runByte;
    if (runLength >= 4) block[length++] = runLength - 4;
    runLength = 0;
  };
  const endBlock = () => {
    if (length === 0) return;
    const blockCrc = ~crc >>> 0;
    writeBlock(out, block, length, blockCrc);
    combined = (((combined << 1) | (combined >>> 31)) ^ blockCrc) >>> 0;
    length = 0;
    crc = 0xffffffff;
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        for (let i = 0; i < chunk.length; i++) {
          const byte = chunk[i]!;
          if (byte === runByte && runLength < 255) {
            runLength++;
            continue;
          }
          flushRun();
          // As bzip2: a full block is closed with the new run still pending.
          if (length >= maxBlock) endBlock();
          runByte = byte;
          runLength = 1;
        }
        const bytes = out.take();
        callback(null, bytes.length ? bytes : undefined);
      } catch (e) {
        callback(e as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        flushRun();
        endBlock();
        out.write(24, END_MAGIC[0]!);
        out.write(24, END_MAGIC[1]!);
        out.write32(combined);
        out.finish();
        callback(null, out.take());
      } catch (e) {
        callback(e as Error);
      }
    },
  });
}
