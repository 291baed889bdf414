// Graceful shutdown of the HTTPS listener. http.Server.close() would close every idle keep-alive
// connection at once, and a client sending its next request on one at that moment sees a connection
// reset. Instead: stop accepting connections; answer every request still arriving on an open
// connection, with `Connection: close`; end a connection once it has been idle for a grace (longer
// than a busy client's pause between two requests, also on a loaded machine); close what is left when
// the time is up.
//
// Closing the listener resets the connections the kernel completed but this process has not accepted
// yet (a busy event loop accepts late): the drain lets one poll of the event loop accept them first,
// and tells clients to close (so that they reconnect) only after the listener is closed.
//
// Closing an idle connection always races with a request the client may be sending on it. The race
// must not lose a request the server processed: an idle connection is closed at once (destroyed, so
// not a byte more is read from it), and "idle" means no request under way and no byte read since the
// last response ended, so a connection holding half a request head is in use.
import net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** A connection idle this long during the drain is closed (clients treat that as keep-alive expiry). */
export const DRAIN_IDLE_GRACE_MS = 2_000;
const POLL_MS = 25;

interface ConnectionState {
  /** Requests read and not yet answered (pipelining may make it more than one). */
  active: number;
  idleSince: number;
  /** socket.bytesRead when the last response ended: more read since is the start of a request. */
  bytesReadWhenIdle: number;
  /** The response to the latest request read, until it closes. */
  latest?: ServerResponse;
}

export interface ConnectionDrain {
  readonly draining: boolean;
  /** Stops accepting connections and waits (at most timeoutMs) until every connection has ended. */
  drain(timeoutMs: number): Promise<{ forced: number }>;
}

export interface ConnectionDrainOptions {
  /** How long a connection must have been idle before the drain closes it (default DRAIN_IDLE_GRACE_MS). */
  idleGraceMs?: number;
}

/**
 * Resolves after the event loop has polled for I/O at least once, accepting every connection waiting
 * in the listen backlog: an immediate set in the poll phase runs before the next poll, the second one after it.
 */
async function acceptWaitingConnections(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function trackConnections(app: FastifyInstance, opts: ConnectionDrainOptions = {}): ConnectionDrain {
  const idleGraceMs = opts.idleGraceMs ?? DRAIN_IDLE_GRACE_MS;
  /** Every accepted TCP connection until it closes, the TLS handshake included. */
  const open = new Set<net.Socket>();
  /** The connections requests come on (TLS: once the handshake is done), with their state. */
  const sockets = new Map<net.Socket, ConnectionState>();
  let draining = false;
  const follow = (socket: net.Socket) => {
    sockets.set(socket, { active: 0, idleSince: Date.now(), bytesReadWhenIdle: socket.bytesRead });
    socket.once('close', () => sockets.delete(socket));
  };
  const secure = app.server instanceof tls.Server;
  app.server.on('connection', (raw: net.Socket) => {
    open.add(raw);
    raw.once('close', () => open.delete(raw));
    if (!secure) follow(raw);
  });
  if (secure) app.server.on('secureConnection', (socket: TLSSocket) => follow(socket));
  // Node's own request event, ahead of fastify: every request counts, also those no hook sees. Here
  // rather than in an onSend hook, which fastify would run for every response.
  app.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('connection', 'close');
    const socket = req.socket;
    const s = sockets.get(socket);
    if (!s) return;
    s.active++;
    s.latest = res;
    res.once('close', () => {
      if (s.latest === res) s.latest = undefined;
      s.active--;
      s.idleSince = Date.now();
      s.bytesReadWhenIdle = socket.bytesRead;
    });
  });
  const idle = (socket: net.Socket, s: ConnectionState, now: number) => s.active === 0 && socket.bytesRead === s.bytesReadWhenIdle && now - s.idleSince >= idleGraceMs;
  return {
    get draining() {
      return draining;
    },
    async drain(timeoutMs) {
      await acceptWaitingConnections();
      // net.Server's close: no new connections, the open ones left alone (unlike http.Server's).
      if (app.server.listening) net.Server.prototype.close.call(app.server);
      // Only now `Connection: close`: a client told so earlier reconnects at once, into the backlog the close resets.
      draining = true;
      // A request under way whose answer has not started: its answer says so too (fastify's writeHead keeps
      // this header). The connection's latest request: the one after which it closes.
      for (const s of sockets.values()) if (s.latest && !s.latest.headersSent) s.latest.setHeader('connection', 'close');
      const deadline = Date.now() + timeoutMs;
      while (open.size > 0 && Date.now() < deadline) {
        const now = Date.now();
        for (const [socket, s] of sockets) {
          if (!idle(socket, s, now)) continue;
          // close_notify and FIN, then closed in the same turn: nothing the client sends from here on is read.
          socket.end();
          socket.destroy();
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const forced = open.size;
      for (const socket of [...sockets.keys(), ...open]) socket.destroy();
      return { forced };
    },
  };
}
