// Magic numbers of the common formats with their Tika priorities (facts of Tika 3.3's
// tika-mimetypes.xml), and Tika's "is it text" statistics for data no magic matches.
interface Magic {
  priority: number;
  type: string;
  matches(data: Buffer): boolean;
}

const at = (offset: number, ...bytes: (string | number[])[]) => (data: Buffer) =>
  bytes.some((b) => {
    const expected = typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b);
    return data.length >= offset + expected.length && data.subarray(offset, offset + expected.length).equals(expected);
  });

const within = (from: number, to: number, ...values: string[]) => (data: Buffer) => {
  const window = data.subarray(from, to + Math.max(...values.map((v) => v.length)));
  return values.some((v) => window.includes(Buffer.from(v, 'latin1')));
};

const regexAt0 = (pattern: RegExp) => (data: Buffer) => pattern.test(data.subarray(0, 1024).toString('latin1'));

// Ordered by priority, highest first; within a priority Tika returns all that match, we keep the first.
const MAGICS: Magic[] = [
  { priority: 60, type: 'text/html', matches: regexAt0(/^<(html|head|body|title|div)[ >]|^<h[123][ >]/i) },
  { priority: 50, type: 'application/pdf', matches: at(0, '%PDF-', [0xef, 0xbb, 0xbf, 0x25, 0x50, 0x44, 0x46, 0x2d]) },
  { priority: 50, type: 'image/png', matches: at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { priority: 50, type: 'image/jpeg', matches: at(0, [0xff, 0xd8, 0xff]) },
  { priority: 50, type: 'image/gif', matches: at(0, 'GIF87a', 'GIF89a') },
  { priority: 50, type: 'image/tiff', matches: at(0, [0x4d, 0x4d, 0x00, 0x2a], [0x49, 0x49, 0x2a, 0x00], [0x4d, 0x4d, 0x00, 0x2b]) },
  { priority: 50, type: 'image/webp', matches: (d) => at(0, 'RIFF')(d) && at(8, 'WEBP')(d) },
  { priority: 50, type: 'application/x-xz', matches: at(0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) },
  { priority: 50, type: 'application/zip', matches: at(0, [0x50, 0x4b, 0x03, 0x04], [0x50, 0x4b, 0x05, 0x06], [0x50, 0x4b, 0x07, 0x08]) },
  { priority: 50, type: 'application/x-7z-compressed', matches: at(0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) },
  { priority: 50, type: 'application/x-rar-compressed', matches: at(0, 'Rar!') },
  { priority: 50, type: 'application/dicom', matches: at(128, 'DICM') },
  { priority: 50, type: 'application/x-gtar', matches: at(257, 'ustar  \0') },
  {
    priority: 50,
    type: 'application/xml',
    matches: at(0, '<?xml', '<?XML', [0xef, 0xbb, 0xbf, 0x3c, 0x3f, 0x78, 0x6d, 0x6c], [0xff, 0xfe, 0x3c, 0, 0x3f, 0, 0x78, 0, 0x6d, 0, 0x6c, 0], [0xfe, 0xff, 0, 0x3c, 0, 0x3f, 0, 0x78, 0, 0x6d, 0, 0x6c]),
  },
  { priority: 45, type: 'application/gzip', matches: at(0, [0x1f, 0x8b]) },
  { priority: 40, type: 'application/x-bzip2', matches: (d) => at(0, 'BZh')(d) && d.length > 3 && d[3]! >= 0x31 && d[3]! <= 0x39 },
  { priority: 40, type: 'application/x-tar', matches: at(257, 'ustar\0') },
  {
    priority: 40,
    type: 'text/html',
    matches: (d) => within(0, 64, '<!DOCTYPE HTML', '<!DOCTYPE html', '<!doctype HTML', '<!doctype html', '<HEAD', '<head', '<TITLE', '<title', '<HTML')(d) || within(0, 128, '<html')(d),
  },
  { priority: 30, type: 'application/xml', matches: at(0, '<!--') },
];

/** The types of the highest priority whose magic matches (MimeTypes.getMimeType without the text fallback). */
export function magicTypes(data: Buffer): string[] {
  let priority = -1;
  const found: string[] = [];
  for (const magic of MAGICS) {
    if (priority > 0 && priority > magic.priority) break;
    if (magic.matches(data)) {
      found.push(magic.type);
      priority = magic.priority;
    }
  }
  return found;
}

export function htmlMagic(data: Buffer): boolean {
  return MAGICS.some((m) => m.type === 'text/html' && m.matches(data));
}

/** TextDetector: mostly ASCII, or plausible UTF-8, with few control bytes. */
export function looksLikeText(data: Buffer): boolean {
  const counts = new Int32Array(256);
  for (const byte of data) counts[byte]!++;
  const count = (from: number, to: number) => {
    let sum = 0;
    for (let i = from; i < to; i++) sum += counts[i]!;
    return sum;
  };
  const total = data.length;
  const control = count(0, 0x20);
  const safe = counts[0x09]! + counts[0x0a]! + counts[0x0d]! + counts[0x0c]! + counts[0x1b]!;
  const ascii = count(0x20, 128);
  if (total > 0 && (control - safe) * 100 < total * 2 && (ascii + safe) * 100 > total * 90) return true;
  let utf8 = count(0x20, 0x80);
  const leading = [count(0xc0, 0xe0), count(0xe0, 0xf0), count(0xf0, 0xf8)];
  let expectedContinuation = 0;
  leading.forEach((n, i) => {
    utf8 += n;
    expectedContinuation += (i + 1) * n;
  });
  const continuation = count(0x80, 0xc0);
  return (
    utf8 > 0 &&
    continuation <= expectedContinuation &&
    continuation >= expectedContinuation - 3 &&
    count(0xf8, 0x100) === 0 &&
    (control - safe) * 100 < utf8 * 2
  );
}

/** The root element of an XML prefix as [namespace, local name], or undefined when none is found. */
export function xmlRoot(data: Buffer): [string, string] | undefined {
  let text = data.toString('utf8').replace(/^\uFEFF/, '');
  text = text.replace(/^(\s*(<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>[]*(\[[\s\S]*?\])?\s*>))*\s*/, '');
  const match = /^<([A-Za-z_][\w.-]*)(?::([A-Za-z_][\w.-]*))?([^>]*)>?/.exec(text);
  if (!match) return undefined;
  const prefix = match[2] ? match[1] : undefined;
  const local = match[2] ?? match[1]!;
  const attributes = match[3] ?? '';
  const ns = new RegExp(`xmlns${prefix ? `:${prefix}` : ''}\\s*=\\s*["']([^"']*)["']`).exec(attributes);
  return [ns?.[1] ?? '', local];
}
