// A small HTTPS client with client-certificate authentication and keep-alive, used between sites,
// by the BPE towards its FHIR server, and by tests and benchmarks.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

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

export class HttpsClient {
  readonly agent: https.Agent;

  constructor(identity: TlsIdentity, maxSockets = 32) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets, cert: identity.cert, key: identity.key, pfx: identity.pfx, passphrase: identity.passphrase, ca: identity.ca });
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
      if (opts.connectTimeoutMs !== undefined) limitConnect(req, opts.connectTimeoutMs, url);
      if (opts.body !== undefined) req.write(opts.body);
      req.end();
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
