// A small HTTPS client with client-certificate authentication and keep-alive, used between sites,
// by the BPE towards its FHIR server, and by tests and benchmarks.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { markFailuresBeforeConnect } from './request-delivery.ts';

export interface TlsIdentity {
  /** PEM client certificate and key; omit to connect without a client certificate. */
  cert?: string;
  key?: string;
  /** Or a PKCS#12 file with key and certificate. */
  pfx?: Buffer;
  /** Password of the PKCS#12 file or of an encrypted private key. */
  passphrase?: string;
  /** PEM CA certificates trusted for the server certificate; undefined trusts the system's CAs. */
  ca: string | string[] | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface StreamedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: IncomingMessage;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Idle time after which the request fails (the read timeout). */
  timeoutMs?: number;
  /** Time allowed to establish the connection (TCP and TLS). */
  connectTimeoutMs?: number;
}

/** How long a pooled keep-alive socket may stay idle before this client closes it (default). */
export const IDLE_SOCKET_MS = 4_000;

export interface HttpsClientOptions {
  /** Most sockets open to one host at a time (default 32). */
  maxSockets?: number;
  /** Idle time after which a pooled keep-alive socket is closed (default IDLE_SOCKET_MS; shorter in tests). */
  idleSocketMs?: number;
}

export class HttpsClient {
  readonly agent: https.Agent;

  constructor(identity: TlsIdentity, options: HttpsClientOptions = {}) {
    // Idle pooled sockets are closed after IDLE_SOCKET_MS, well before a server's keep-alive timeout
    // (ours 15 s, Node's 5 s): otherwise a request sent just as the server closes an idle socket fails
    // with ECONNRESET ("socket hang up"), and a busy event loop here makes that instant hard to avoid.
    // Every request sets its own timeout, so this applies to free sockets only.
    this.agent = new https.Agent({
      keepAlive: true,
      timeout: options.idleSocketMs ?? IDLE_SOCKET_MS,
      maxSockets: options.maxSockets ?? 32,
      cert: identity.cert,
      key: identity.key,
      pfx: identity.pfx,
      passphrase: identity.passphrase,
      ca: identity.ca,
    });
  }

  request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: this.agent, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`Request to ${url} timed out`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      markFailuresBeforeConnect(req, true);
      if (opts.connectTimeoutMs !== undefined) limitConnect(req, opts.connectTimeoutMs, url);
      // One end(body): Node then sends a Content-Length (write() and end() would send the body chunked).
      req.end(opts.body);
    });
  }

  /**
   * Like request, but nothing is buffered: the request body may be a stream (sent with back-pressure)
   * and the response body is returned as the unread stream.
   */
  stream(url: string, opts: Omit<RequestOptions, 'body'> & { body?: string | Buffer | Readable } = {}): Promise<StreamedResponse> {
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: this.agent, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.on('timeout', () => req.destroy(new Error(`Request to ${url} timed out`)));
      req.on('error', reject);
      markFailuresBeforeConnect(req, true);
      if (opts.body instanceof Readable) {
        opts.body.on('error', (e) => req.destroy(e));
        opts.body.pipe(req);
      } else req.end(opts.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Fails the request when a new connection is not established within ms (reused keep-alive sockets are not timed). */
function limitConnect(req: ReturnType<typeof https.request>, ms: number, url: string): void {
  req.on('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`Connecting to ${url} timed out`), { code: 'ECONNECTTIMEOUT' })), ms);
    socket.once('secureConnect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
}
