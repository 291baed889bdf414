// HTTP and HTTPS for the BPE's FHIR and OIDC clients: client certificates and trusted CAs, keep-alive,
// an Authorization header per request (basic, bearer, OIDC), and the forward proxy of the
// configuration. Through the proxy, http:// targets are requested in absolute form and https:// targets
// through a CONNECT tunnel (TLS end to end; a tunnel per request, no keep-alive through the proxy).
// Pooled keep-alive sockets can die silently (peer gone without FIN/RST): see stale-socket-guard.ts for
// how a request on such a socket is detected quickly and, where safe, retried on a fresh connection.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import type { HttpResponse, RequestOptions, StreamedResponse } from '../../common/https-client.ts';
import { markFailuresBeforeConnect, markNotSent } from '../../common/request-delivery.ts';
import type { ProxyConfig } from '../../plugin-api/proxy-config.ts';
import { StaleSocketGuard, isIdempotent, type StaleSocketSettings } from './stale-socket-guard.ts';

export interface TlsSettings {
  cert?: string;
  key?: string;
  pfx?: Buffer;
  passphrase?: string;
  /** PEM CAs trusted for server certificates; undefined trusts the system's. */
  ca?: string | string[];
}

export interface HttpTransportOptions {
  tls?: TlsSettings;
  /** Decides per target URL whether the proxy is used. */
  proxy?: ProxyConfig;
  /** The Authorization header value for each request (e.g. a fresh OIDC access token), if any. */
  authorization?: () => Promise<string | undefined> | string | undefined;
  userAgent?: string;
  maxSockets?: number;
  /** How pooled sockets are checked for a silently dead peer; defaults in stale-socket-guard.ts. */
  staleSockets?: Partial<StaleSocketSettings>;
}

export type StreamRequestOptions = Omit<RequestOptions, 'body'> & { body?: string | Buffer | Readable };

/** What the FHIR client needs of a transport (HttpsClient of src/common has the same shape). */
export interface FhirHttp {
  request(url: string, opts?: RequestOptions): Promise<HttpResponse>;
  stream(url: string, opts?: StreamRequestOptions): Promise<StreamedResponse>;
  close(): void;
}

export class HttpTransport implements FhirHttp {
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent: http.Agent;
  private readonly staleSockets: StaleSocketGuard;

  constructor(private readonly options: HttpTransportOptions = {}) {
    const t = options.tls ?? {};
    this.staleSockets = new StaleSocketGuard(options.staleSockets);
    const pool = this.staleSockets.agentOptions(options.maxSockets ?? 32);
    this.httpsAgent = new https.Agent({ ...pool, cert: t.cert, key: t.key, pfx: t.pfx, passphrase: t.passphrase, ca: t.ca });
    this.httpAgent = new http.Agent(pool);
    this.staleSockets.watch(this.httpsAgent);
    this.staleSockets.watch(this.httpAgent);
  }

  async request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const res = await this.stream(url, opts);
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    return { status: res.status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
  }

  /** The response body unread; a Readable request body is sent with back-pressure. */
  async stream(url: string, opts: StreamRequestOptions = {}): Promise<StreamedResponse> {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TypeError(`unsupported URL scheme in ${url}`);
    const headers: Record<string, string> = { ...opts.headers };
    // No token (e.g. the OIDC provider unreachable): nothing was sent to the target.
    const authorization = await Promise.resolve()
      .then(() => this.options.authorization?.())
      .catch((e: unknown) => Promise.reject(markNotSent(e)));
    if (authorization && !hasHeader(headers, 'authorization')) headers.authorization = authorization;
    if (this.options.userAgent && !hasHeader(headers, 'user-agent')) headers['user-agent'] = this.options.userAgent;
    const proxy = this.options.proxy?.isEnabled(url) ? this.options.proxy : undefined;
    const timeout = opts.timeoutMs ?? 30_000;

    if (proxy) return this.send(this.proxiedRequest(url, target, headers, opts, proxy, timeout), url, opts, { direct: false });

    // Directly: pooled keep-alive sockets, checked for a silently dead peer.
    const method = (opts.method ?? 'GET').toUpperCase();
    const agent = target.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    const body = (opts as { body?: string | Buffer | Readable }).body;
    // A Readable body is consumed by the first attempt, so such a request is never sent twice.
    const retryable = isIdempotent(method) && !(body instanceof Readable);
    if (!isIdempotent(method)) this.staleSockets.dropIdleSockets(agent);
    const direct = (fresh: boolean) =>
      (target.protocol === 'https:' ? https : http).request(url, { method, headers, timeout, ...(fresh ? this.freshConnection(target) : { agent }) });
    try {
      return await this.send(direct(false), url, opts, { direct: true, firstByteMs: retryable ? this.staleSockets.firstByteTimeoutMs(timeout) : undefined });
    } catch (e) {
      if (!retryable || !StaleSocketGuard.isStaleSocketFailure(e)) throw e;
      // The other pooled sockets to this peer are probably just as dead.
      this.staleSockets.dropSocketsTo(agent, target);
      return this.send(direct(true), url, opts, { direct: true });
    }
  }

  /** One-off connection outside the pool, with the pool's TLS settings. */
  private freshConnection(target: URL): https.RequestOptions {
    if (target.protocol !== 'https:') return { agent: false };
    const t = this.options.tls ?? {};
    return { agent: false, cert: t.cert, key: t.key, pfx: t.pfx, passphrase: t.passphrase, ca: t.ca };
  }

  private proxiedRequest(url: string, target: URL, headers: Record<string, string>, opts: StreamRequestOptions, proxy: ProxyConfig, timeout: number): http.ClientRequest | Promise<http.ClientRequest> {
    if (target.protocol === 'http:') {
      // Absolute-form request to the proxy, which forwards it.
      const p = new URL(proxy.url!);
      const proxyHeaders = { ...headers, host: target.host, ...proxyAuthorization(proxy) };
      const through = p.protocol === 'https:' ? https : http;
      return through.request({ host: p.hostname, port: p.port || (p.protocol === 'https:' ? 443 : 80), method: opts.method ?? 'GET', path: url, headers: proxyHeaders, timeout, agent: false });
    }
    return this.tunnel(proxy, target, opts.connectTimeoutMs ?? timeout).then((socket) => {
      const t = this.options.tls ?? {};
      // No agent: with one (even agent: false) Node would open its own connection instead of using this tunnel.
      return https.request(url, {
        method: opts.method ?? 'GET',
        headers,
        timeout,
        createConnection: () => tls.connect({ socket, servername: target.hostname, cert: t.cert, key: t.key, pfx: t.pfx, passphrase: t.passphrase, ca: t.ca }),
      });
    });
  }

  /**
   * Sends the body and resolves with the response head. The connect timeout is applied to direct
   * connections (the proxy's tunnel has its own); firstByteMs limits the wait on a reused socket.
   */
  private async send(request: http.ClientRequest | Promise<http.ClientRequest>, url: string, opts: StreamRequestOptions, how: { direct: boolean; firstByteMs?: number }): Promise<StreamedResponse> {
    // No tunnel through the proxy: the request was not sent.
    const req = await Promise.resolve(request).catch((e: unknown) => Promise.reject(markNotSent(e)));
    return new Promise<StreamedResponse>((resolve, reject) => {
      req.on('response', (res: IncomingMessage) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
      req.on('timeout', () => req.destroy(Object.assign(new Error(`Request to ${url} timed out`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      // Whether a failure came before the request was written (to the target, or to the proxy for http://).
      markFailuresBeforeConnect(req, req.protocol === 'https:');
      if (opts.connectTimeoutMs !== undefined && how.direct) limitConnect(req, opts.connectTimeoutMs, url);
      if (how.direct) StaleSocketGuard.watchRequest(req, url, how.firstByteMs);
      const body = (opts as { body?: string | Buffer | Readable }).body;
      if (body instanceof Readable) {
        body.on('error', (e) => req.destroy(e));
        body.pipe(req);
      } else req.end(body);
    });
  }

  /** A socket connected through the proxy to the target's host and port (HTTP CONNECT). */
  private tunnel(proxy: ProxyConfig, target: URL, timeoutMs: number): Promise<Duplex> {
    const p = new URL(proxy.url!);
    const authority = `${target.hostname}:${target.port || 443}`;
    const through = p.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = through.request({ host: p.hostname, port: p.port || (p.protocol === 'https:' ? 443 : 80), method: 'CONNECT', path: authority, headers: { host: authority, ...proxyAuthorization(proxy) }, agent: false, timeout: timeoutMs });
      req.on('connect', (res: IncomingMessage, socket: Duplex) => {
        if (res.statusCode === 200) resolve(socket);
        else {
          socket.destroy();
          reject(Object.assign(new Error(`proxy ${proxy.url} refused CONNECT ${authority}: HTTP ${res.statusCode}`), { code: 'EPROXY', status: res.statusCode }));
        }
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`CONNECT through ${proxy.url} timed out`), { code: 'ECONNECTTIMEOUT' })));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function proxyAuthorization(proxy: ProxyConfig): Record<string, string> {
  if (!proxy.username) return {};
  return { 'proxy-authorization': `Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}` };
}

/** Fails the request when a new connection is not established within ms (reused sockets are not timed). */
function limitConnect(req: http.ClientRequest, ms: number, url: string): void {
  req.on('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`Connecting to ${url} timed out`), { code: 'ECONNECTTIMEOUT' })), ms);
    socket.once(url.startsWith('https:') ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
}
