// Graceful shutdown of the HTTPS listener. http.Server.close() would close every idle keep-alive
// connection at once, and a client sending its next request on one at that moment sees a connection
// reset. Instead: stop accepting connections; answer every request still arriving on an open
// connection, with `Connection: close`; end a connection once it has been idle for a moment (as
// keep-alive expiry does); close what is left when the time is up.
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';

/** A connection idle this long during the drain is ended (clients treat that as keep-alive expiry). */
const IDLE_GRACE_MS = 250;
const POLL_MS = 25;

interface ConnectionState {
  active: number;
  idleSince: number;
}

export interface ConnectionDrain {
  readonly draining: boolean;
  /** Stops accepting connections and waits (at most timeoutMs) until every connection has ended. */
  drain(timeoutMs: number): Promise<{ forced: number }>;
}

export function trackConnections(app: FastifyInstance): ConnectionDrain {
  const sockets = new Map<net.Socket, ConnectionState>();
  let draining = false;
  app.server.on('secureConnection', (socket: TLSSocket) => {
    sockets.set(socket, { active: 0, idleSince: Date.now() });
    socket.once('close', () => sockets.delete(socket));
  });
  app.addHook('onRequest', async (req) => {
    const s = sockets.get(req.raw.socket);
    if (s) s.active++;
  });
  const done = (socket: net.Socket) => {
    const s = sockets.get(socket);
    if (s && s.active > 0) {
      s.active--;
      s.idleSince = Date.now();
    }
  };
  app.addHook('onResponse', async (req) => done(req.raw.socket));
  app.addHook('onRequestAbort', async (req) => done(req.raw.socket));
  app.addHook('onSend', async (_req, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  return {
    get draining() {
      return draining;
    },
    async drain(timeoutMs) {
      draining = true;
      // net.Server's close: no new connections, the open ones left alone (unlike http.Server's).
      if (app.server.listening) net.Server.prototype.close.call(app.server);
      const deadline = Date.now() + timeoutMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        const now = Date.now();
        for (const [socket, s] of sockets) if (s.active === 0 && now - s.idleSince >= IDLE_GRACE_MS) socket.end();
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const forced = sockets.size;
      for (const socket of sockets.keys()) socket.destroy();
      return { forced };
    },
  };
}
