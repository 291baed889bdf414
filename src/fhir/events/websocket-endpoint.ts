// GET {base}/ws upgraded to a websocket, with the reference's text protocol: the client sends
// `bind <subscriptionId>`, the server answers `bound <subscriptionId>` and then sends each matching
// event (the resource in the Subscription's format, or `ping <subscriptionId>`). A caller without the
// WEBSOCKET role is closed with 1008 "Forbidden", an unknown subscription with 1003. The server pings
// every interval with 32 random bytes and drops a connection whose previous ping got no pong; it
// closes with 1008 "Credentials expired" when the caller's certificate or token expires.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { RequestContext } from '../service/request-context.ts';
import type { SubscriptionManager } from './subscription-manager.ts';
import { CLOSE_CREDENTIALS_EXPIRED, CLOSE_FORBIDDEN, identityKey, mayOpenWebsocket, type EventSession } from './websocket-session.ts';

export const DEFAULT_PING_INTERVAL_MS = 28_000;
const BIND_PREFIX = 'bind ';
/** A client this far behind is dropped; it reconnects and catches up by search. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WebsocketEndpointOptions {
  manager: SubscriptionManager;
  context(req: FastifyRequest): Promise<RequestContext>;
  pingIntervalMs?: number;
  log?: (msg: string) => void;
}

let nextSessionId = 1;

/** Registers GET /ws in the given (prefixed) scope. */
export function registerWebsocketEndpoint(app: FastifyInstance, opts: WebsocketEndpointOptions): void {
  app.register(async (scope) => {
    await scope.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
    scope.get('/ws', { websocket: true }, (socket, req) => acceptConnection(socket, req, opts));
  });
}

function acceptConnection(socket: WebSocket, req: FastifyRequest, opts: WebsocketEndpointOptions): void {
  const { manager } = opts;
  const pingIntervalMs = opts.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
  let session: EventSession | undefined;
  let pingTimer: NodeJS.Timeout | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const close = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    socket.close(code, reason);
  };
  socket.on('close', () => {
    closed = true;
    clearInterval(pingTimer);
    clearTimeout(expiryTimer);
    if (session) manager.closed(session);
  });
  socket.on('error', () => socket.terminate());

  // Listeners are attached before the context is known, so an early `bind` is not lost; messages
  // are handled one after the other once it is.
  let chain: Promise<unknown> = opts
    .context(req)
    .then((ctx) => {
      if (closed) return;
      if (!mayOpenWebsocket(ctx.identity)) return close(CLOSE_FORBIDDEN.code, CLOSE_FORBIDDEN.reason);
      const s: EventSession = {
        id: nextSessionId++,
        ctx,
        identityKey: identityKey(ctx.identity),
        send(text) {
          if (closed || socket.readyState !== socket.OPEN) return;
          if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
            opts.log?.(`websocket session ${s.id} is too far behind; dropping it`);
            socket.terminate();
            return;
          }
          socket.send(text, { binary: false });
        },
        close,
      };
      session = s;
      manager.open(s);
      startPings();
      watchExpiry(ctx.identity?.expiresAt);
    })
    .catch(() => close(CLOSE_FORBIDDEN.code, CLOSE_FORBIDDEN.reason));

  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    chain = chain.then(async () => {
      if (!session || closed || !text.startsWith(BIND_PREFIX)) return; // the reference ignores other messages
      await manager.bind(session, text.slice(BIND_PREFIX.length).trim());
    }).catch((e) => opts.log?.(`websocket bind failed: ${(e as Error).message}`));
  });

  function startPings(): void {
    let expected: Buffer | undefined;
    socket.on('pong', (data) => {
      if (expected && data.equals(expected)) expected = undefined;
    });
    pingTimer = setInterval(() => {
      // No pong to the previous ping within a whole interval: the peer is gone.
      if (expected) return socket.terminate();
      expected = randomBytes(32);
      socket.ping(expected);
    }, pingIntervalMs);
  }

  function watchExpiry(expiresAt: Date | undefined): void {
    if (!expiresAt) return;
    const wait = expiresAt.getTime() - Date.now();
    if (wait <= 0) return close(CLOSE_CREDENTIALS_EXPIRED.code, CLOSE_CREDENTIALS_EXPIRED.reason);
    expiryTimer = setTimeout(() => watchExpiry(expiresAt), Math.min(wait, MAX_TIMER_MS));
  }
}
