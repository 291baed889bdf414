// Whether a failed HTTP request can have reached the server. A request is written only once its
// connection is established (TCP, and the TLS handshake for https), or at once on a reused keep-alive
// connection. A failure before that point (connection refused, unknown host, connect timeout, TLS
// handshake failure, no tunnel through the proxy) proves the server never saw the request, so even a
// POST may be sent again. Any later failure (reset, read timeout) leaves it open whether the server
// received and stored it.
import type http from 'node:http';

const NOT_SENT = Symbol('requestNotSent');

/** Marks an error as a failure before the request was written. */
export function markNotSent<E>(error: E): E {
  if (typeof error === 'object' && error !== null) (error as { [NOT_SENT]?: boolean })[NOT_SENT] = true;
  return error;
}

/** True only when the error is known to have happened before the request was written. */
export function wasNotSent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { [NOT_SENT]?: boolean })[NOT_SENT] === true;
}

/**
 * Marks the request's errors that happen before its connection is established (secure: after the
 * TLS handshake) as not sent. A reused keep-alive socket counts as established.
 */
export function markFailuresBeforeConnect(req: http.ClientRequest, secure: boolean): void {
  let established = false;
  req.once('socket', (socket) => {
    if (req.reusedSocket) {
      established = true;
      return;
    }
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      established = true;
    });
  });
  // Prepended, so the mark is there before any other listener (e.g. a promise's reject) sees the error.
  req.prependListener('error', (e) => {
    if (!established) markNotSent(e);
  });
}
