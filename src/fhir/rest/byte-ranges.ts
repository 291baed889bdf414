// HTTP range requests (RFC 9110 section 14) for raw Binary downloads: one byte range of
// `Range: bytes=a-b | a- | -n`, guarded by If-Range. Anything the server may ignore (other units,
// malformed values, several ranges) gives the whole content, which the RFC allows.

export type RangeSelection =
  | { kind: 'full' }
  /** end inclusive, as in Content-Range */
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

export function selectRange(header: string | undefined, size: number): RangeSelection {
  if (!header) return { kind: 'full' };
  const unit = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (!unit) return { kind: 'full' };
  const specs = unit[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  if (specs.length !== 1) return { kind: 'full' };
  const m = /^(\d*)\s*-\s*(\d*)$/.exec(specs[0]!);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  if (m[1] === '') {
    // suffix range: the last n bytes
    const n = Number(m[2]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  if (last !== undefined && last < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(last ?? size - 1, size - 1) };
}

/**
 * If-Range: the range applies only while the client's copy is current. An entity tag is compared by
 * version (our ETags are weak in form, W/"n", but a version's content never changes); a date must
 * equal Last-Modified at second precision.
 */
export function ifRangeMatches(ifRange: string | undefined, versionId: string, lastModified: string): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  const tag = /^(?:W\/)?"([^"]*)"$/.exec(value);
  if (tag) return tag[1] === versionId;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return false;
  return Math.floor(Date.parse(lastModified) / 1000) * 1000 === date;
}

export function contentRange(selection: { start: number; end: number }, size: number): string {
  return `bytes ${selection.start}-${selection.end}/${size}`;
}
