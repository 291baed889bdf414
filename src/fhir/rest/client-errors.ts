// Requests Node's HTTP parser refuses before fastify sees them (headers or URL too large, malformed
// HTTP, a client too slow to send its request) still get an OperationOutcome, in JSON: the request's
// Accept header was never parsed.
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { outcome } from '../../common/errors.ts';

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

/** fastify's clientErrorHandler: answers with an OperationOutcome and closes the connection. */
export function clientErrorHandler(log: () => FastifyBaseLogger) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, issue, message } = answerFor(err.code);
    log().debug({ code: err.code, status }, 'client error');
    if (socket.writable) {
      const body = JSON.stringify(outcome('error', issue, message));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/fhir+json;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
