// Reading request bodies and writing responses in the negotiated FHIR format (JSON or XML).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { formatFromAccept, formatFromContentType } from '../model/formats.ts';
import { parseFhirXml } from '../model/xml-parse.ts';
import { toFhirXml } from '../model/xml-write.ts';
import { parseFhirJson } from '../model/json-parse.ts';

export type WireFormat = 'json' | 'xml';

export const JSON_TYPE = 'application/fhir+json';
export const XML_TYPE = 'application/fhir+xml';

function queryValue(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** The format of the response: _format, then Accept, then the request's Content-Type, then JSON. */
export function responseFormat(req: FastifyRequest): WireFormat {
  const f = formatFromAccept(req.headers.accept, queryValue(req, '_format'));
  if (f === 'json' || f === 'xml') return f;
  const ct = formatFromContentType(req.headers['content-type']);
  return ct === 'xml' ? 'xml' : 'json';
}

export function isPretty(req: FastifyRequest): boolean {
  return queryValue(req, '_pretty') === 'true';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a request body as UTF-8; 400 for bytes that are not UTF-8 (nothing is silently replaced). */
export function decodeUtf8Body(body: Buffer): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw new FhirError(400, 'The request body is not valid UTF-8', 'structure');
  }
}

/** A fastify content-type parser giving the body as a string decoded strictly as UTF-8. */
export const utf8BodyParser = { parseAs: 'buffer' as const };
export function parseUtf8Body(_req: FastifyRequest, body: Buffer | string, done: (err: Error | null, body?: string) => void): void {
  try {
    done(null, typeof body === 'string' ? body : decodeUtf8Body(body));
  } catch (e) {
    done(e as Error);
  }
}

/** Parses a FHIR resource body; 415 for non-FHIR content types, 400 for malformed content. */
export function parseResourceBody(req: FastifyRequest): Resource {
  const body = req.body;
  if (typeof body !== 'string' || body.length === 0) throw new FhirError(400, 'The request has no body', 'invalid');
  const format = formatFromContentType(req.headers['content-type']);
  if (format === 'xml') return parseFhirXml(body);
  if (format === 'json') return parseFhirJson(body);
  throw new FhirError(415, `Unsupported Content-Type '${req.headers['content-type'] ?? ''}'; use application/fhir+json or application/fhir+xml`, 'not-supported');
}

export function serialize(resource: Resource | OperationOutcome, format: WireFormat, pretty: boolean): string {
  if (format === 'xml') return toFhirXml(resource as Resource, { pretty });
  return pretty ? JSON.stringify(resource, null, 2) : JSON.stringify(resource);
}

export function sendResource(req: FastifyRequest, reply: FastifyReply, status: number, resource: Resource | OperationOutcome | undefined): FastifyReply {
  reply.code(status);
  if (!resource) return reply.send();
  const format = responseFormat(req);
  reply.header('content-type', `${format === 'xml' ? XML_TYPE : JSON_TYPE};charset=UTF-8`);
  return reply.send(serialize(resource, format, isPretty(req)));
}
