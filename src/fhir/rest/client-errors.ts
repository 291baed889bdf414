// Requests Node's HTTP parser refuses before fastify sees them (headers or URL too large, malformed
// HTTP, a client too slow to send its request) still get an OperationOutcome, or for a browser an HTML
// error page: the parser never handed us the request, so whether HTML is wanted is read from what did
// arrive (a complete Accept header line, _format=html in the request line) or, for a request that
// timed out after its headers, from the request Node already parsed.
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { outcome } from '../../common/errors.ts';
import { formatFromAccept } from '../model/formats.ts';

function answerFor(code: string | undefined): { status: number; issue: Parameters<typeof outcome>[1]; message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, issue: 'too-costly', message: 'The request line and headers exceed the size this server accepts' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, issue: 'timeout', message: 'The request was not received in time' };
    default:
      return { status: 400, issue: 'structure', message: 'Malformed HTTP request' };
  }
}

/** Only this much of what arrived is looked at (a header block larger than this was refused anyway). */
const SCAN_BYTES = 64 * 1024;

/** The bytes a connection received since its last request was parsed (headers in progress), bounded. */
const headerBytes = new WeakMap<Socket, { chunks: Buffer[]; size: number }>();

/**
 * Keeps, per connection, what arrived while no request was being handled: the start of a header block
 * that may later overflow (the parse error carries only the last chunk). Dropped as soon as Node hands
 * the request on, so only connections in the middle of sending headers hold any of it.
 */
export function recordHeaderBytes(server: import('node:http').Server): void {
  const watch = (socket: Socket) => {
    const seen = { chunks: [] as Buffer[], size: 0 };
    headerBytes.set(socket, seen);
    socket.on('data', (chunk: Buffer) => {
      if ((socket as Socket & { _httpMessage?: unknown })._httpMessage) return; // a request is being handled
      if (seen.size >= SCAN_BYTES) return;
      seen.chunks.push(chunk);
      seen.size += chunk.length;
    });
  };
  // TLS only (the FHIR server is always HTTPS): on a plain socket a 'data' listener would stop Node's
  // parser from reading the socket natively.
  if (server instanceof TlsServer) server.on('secureConnection', watch);
  server.on('request', (req: IncomingMessage) => {
    const seen = headerBytes.get(req.socket);
    if (seen) {
      seen.chunks = [];
      seen.size = 0;
    }
  });
}

/** Accept and _format of a request: from the one Node parsed, else from the raw bytes received. */
function requestedFormat(err: Error, socket: Socket): string | undefined {
  // Node's own objects: the response being written on this socket knows its request (headers complete).
  const req = (socket as Socket & { _httpMessage?: { req?: IncomingMessage } })._httpMessage?.req;
  if (req) return formatFromAccept(req.headers.accept, /[?&]_format=([A-Za-z+/]*)(?:&|$)/.exec(req.url ?? '')?.[1]);
  // What arrived of the refused request; else the bytes Node's parse error carries (its last chunk).
  const seen = headerBytes.get(socket);
  const packet = (err as { rawPacket?: unknown }).rawPacket;
  const raw = Buffer.concat([...(seen?.chunks ?? []), ...(Buffer.isBuffer(packet) ? [packet] : [])]);
  const text = raw.subarray(0, SCAN_BYTES).toString('latin1');
  const requestLine = /^[A-Z]+ (\S+) HTTP\/1\.[01]\r\n/.exec(text)?.[1];
  // Only a line that ended (CRLF) counts: a cut-off Accept could name something else.
  const accept = /\r\naccept[ \t]*:[ \t]*([^\r\n]*)\r\n/i.exec(text)?.[1];
  return formatFromAccept(accept, requestLine ? /[?&]_format=([A-Za-z+/]*)(?:&|$)/.exec(requestLine)?.[1] : undefined);
}

/** Renders an error page for browsers; absent when the server has no HTML pages. */
export type ErrorPage = (status: number, oo: OperationOutcome) => string;

/** fastify's clientErrorHandler: answers with an OperationOutcome (or a page) and closes the connection. */
export function clientErrorHandler(log: () => FastifyBaseLogger, page?: ErrorPage) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, issue, message } = answerFor(err.code);
    log().debug({ code: err.code, status }, 'client error');
    if (socket.writable) {
      const oo = outcome('error', issue, message);
      const html = page && requestedFormat(err, socket) === 'html';
      const body = html ? page(status, oo) : JSON.stringify(oo);
      const headers = html
        ? "Content-Type: text/html;charset=UTF-8\r\nContent-Security-Policy: default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'\r\nX-Content-Type-Options: nosniff\r\n"
        : 'Content-Type: application/fhir+json;charset=UTF-8\r\n';
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  };
}
