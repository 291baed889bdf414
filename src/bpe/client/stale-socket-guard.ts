// Keep-alive sockets whose peer vanished without FIN or RST (a stalled server, a NAT or firewall that
// dropped the connection) look healthy in the pool: a request written to one waits for the full read
// timeout. The guard shortens that in four ways:
// - idle pooled sockets are closed after idleSocketMs, before a server's usual keep-alive ends
//   (Node's agent also honours a shorter `Keep-Alive: timeout=` hint of the server);
// - TCP keep-alive probes run on every socket, so middleboxes keep their state and the kernel can
//   notice a dead peer of an idle socket;
// - a request that may be sent twice (idempotent method, body not a stream) waits at most
//   reusedFirstByteMs for the response head on a reused socket, then is retried once on a fresh
//   connection (by the transport);
// - a request that must not be sent twice (POST, PATCH) never goes out on a socket idle longer than
//   unsafeReuseMaxIdleMs: such sockets are closed first, so it takes a recently proven or a fresh
//   connection and is never retried (nobody can tell whether a silent server received it).
import type http from 'node:http';
import type { Socket } from 'node:net';

export interface StaleSocketSettings {
  /** A pooled socket idle this long is closed. */
  idleSocketMs: number;
  /** Initial delay of TCP keep-alive probes. */
  tcpKeepAliveMs: number;
  /** Wait for the response head of a retryable request on a reused socket before retrying fresh. */
  reusedFirstByteMs: number;
  /** A non-idempotent request never reuses a socket idle longer than this. */
  unsafeReuseMaxIdleMs: number;
}

export const DEFAULT_STALE_SOCKET_SETTINGS: StaleSocketSettings = {
  idleSocketMs: 4_000,
  tcpKeepAliveMs: 1_000,
  reusedFirstByteMs: 5_000,
  unsafeReuseMaxIdleMs: 1_000,
};

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** RFC 9110 idempotent methods: sending one twice has the effect of sending it once. */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/** Failures of a reused socket before any response byte: the socket was dead, not the server. */
const STALE_SOCKET_CODES = new Set(['ESTALESOCKET', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const STALE = Symbol('staleSocket');

export class StaleSocketGuard {
  readonly settings: StaleSocketSettings;
  private readonly idleSince = new WeakMap<Socket, number>();

  constructor(settings: Partial<StaleSocketSettings> = {}) {
    this.settings = { ...DEFAULT_STALE_SOCKET_SETTINGS, ...settings };
  }

  agentOptions(maxSockets: number): http.AgentOptions {
    return { keepAlive: true, keepAliveMsecs: this.settings.tcpKeepAliveMs, maxSockets, timeout: this.settings.idleSocketMs };
  }

  /** Notes when each socket of the agent goes back to the pool, and turns on TCP keep-alive. */
  watch(agent: http.Agent): void {
    agent.on('free', (socket: Socket) => {
      this.idleSince.set(socket, Date.now());
      socket.setKeepAlive(true, this.settings.tcpKeepAliveMs);
    });
  }

  /** The first-byte limit for a retryable request with this read timeout, if shorter than it. */
  firstByteTimeoutMs(readTimeoutMs: number): number | undefined {
    return this.settings.reusedFirstByteMs < readTimeoutMs ? this.settings.reusedFirstByteMs : undefined;
  }

  /** Closes the pool's sockets idle longer than unsafeReuseMaxIdleMs (before a non-idempotent request). */
  dropIdleSockets(agent: http.Agent): void {
    const now = Date.now();
    for (const sockets of Object.values(agent.freeSockets)) {
      for (const socket of [...(sockets ?? [])]) {
        if (now - (this.idleSince.get(socket) ?? 0) > this.settings.unsafeReuseMaxIdleMs) socket.destroy();
      }
    }
  }

  /** Closes the pool's idle sockets to the target's host and port. */
  dropSocketsTo(agent: http.Agent, target: URL): void {
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = target.port || (target.protocol === 'https:' ? '443' : '80');
    // The agent names its pools "<host>:<port>:…".
    const prefix = `${host}:${port}:`;
    for (const [name, sockets] of Object.entries(agent.freeSockets)) {
      if (name.startsWith(prefix)) for (const socket of [...(sockets ?? [])]) socket.destroy();
    }
  }

  /**
   * Marks a failure on a reused socket before any response byte as a stale-socket failure, and
   * with firstByteMs ends the request when no response head came on a reused socket by then.
   */
  static watchRequest(req: http.ClientRequest, url: string, firstByteMs: number | undefined): void {
    req.on('error', (e: Error & { code?: string; [STALE]?: boolean }) => {
      if (req.reusedSocket && !hasResponse(req) && STALE_SOCKET_CODES.has(e.code ?? '')) e[STALE] = true;
    });
    if (firstByteMs === undefined) return;
    req.once('socket', () => {
      if (!req.reusedSocket) return;
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`No response from ${url} within ${firstByteMs} ms on a reused connection`), { code: 'ESTALESOCKET' })), firstByteMs);
      req.once('response', () => clearTimeout(timer));
      req.once('close', () => clearTimeout(timer));
    });
  }

  static isStaleSocketFailure(e: unknown): boolean {
    return typeof e === 'object' && e !== null && (e as { [STALE]?: boolean })[STALE] === true;
  }
}

function hasResponse(req: http.ClientRequest): boolean {
  return (req as http.ClientRequest & { res?: unknown }).res != null;
}
