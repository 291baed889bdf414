// HTTP header conventions of the FHIR REST API: ETag, Last-Modified, Prefer.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionResult, ReturnPreference } from '../service/request-context.ts';

export function preferReturn(req: FastifyRequest): ReturnPreference {
  const m = /return=(minimal|representation|OperationOutcome)/i.exec(String(req.headers.prefer ?? ''));
  if (!m) return 'representation';
  return m[1]!.toLowerCase() === 'minimal' ? 'minimal' : m[1]!.toLowerCase() === 'operationoutcome' ? 'OperationOutcome' : 'representation';
}

/** Prefer: handling=strict turns unknown search parameters into errors; lenient is the default. */
export function preferStrict(req: FastifyRequest): boolean {
  return /handling=strict/i.test(String(req.headers.prefer ?? ''));
}

/** The last UTC second formatted: concurrent writes mostly share it (an HTTP date has whole seconds). */
let lastSecond = '';
let lastSecondText = '';

/** Last-Modified text of an ISO timestamp; 'YYYY-MM-DDTHH:MM:SS.sssZ' (what the store writes) by its second. */
export function httpDate(iso: string): string {
  if (iso.length !== 24 || iso.charCodeAt(23) !== 90 /* Z */ || iso.charCodeAt(19) !== 46 /* . */) return new Date(iso).toUTCString();
  const second = iso.slice(0, 19);
  if (second !== lastSecond) {
    lastSecondText = new Date(iso).toUTCString();
    lastSecond = second;
  }
  return lastSecondText;
}

/** ETag, Last-Modified and (unless `withLocation` is false: reads) Location of a result. */
export function setVersionHeaders(reply: FastifyReply, r: InteractionResult, withLocation = true): void {
  if (r.versionId) reply.header('etag', `W/"${r.versionId}"`);
  if (r.lastModified) reply.header('last-modified', httpDate(r.lastModified));
  if (withLocation && r.location) reply.header('location', r.location);
}

/** If-None-Match / If-Modified-Since on reads: true when the client's copy is current (304). */
export function notModified(req: FastifyRequest, r: InteractionResult): boolean {
  const inm = req.headers['if-none-match'];
  if (inm && r.versionId) {
    return inm.split(',').some((t) => t.trim().replace(/^W\//, '').replaceAll('"', '') === r.versionId || t.trim() === '*');
  }
  const ims = req.headers['if-modified-since'];
  if (ims && r.lastModified) {
    const since = Date.parse(ims);
    // HTTP dates have second precision.
    if (!Number.isNaN(since)) return Math.floor(Date.parse(r.lastModified) / 1000) * 1000 <= since;
  }
  return false;
}
