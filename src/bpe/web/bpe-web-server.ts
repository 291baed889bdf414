// The BPE's HTTPS server (DEV_DSF_BPE_SERVER_BASE_URL, e.g. https://bpe.example.org/bpe): GET <base> and
// <base>/status answer JSON with the organisation, whether the BPE is connected to its FHIR server, the
// deployed plugins and each process's state; <base>/ui is the BPE view (src/bpe/ui). The server asks for a
// client certificate but does not require one in the handshake (a browser without one must see the
// view's sign-in page, not a TLS error): the status endpoints refuse such callers with 401. Behind a
// reverse proxy the certificate comes in its header (client-certificate.ts).
//
// The server faces remote clients: slow or silent ones are cut off by the configured timeouts (TLS
// handshake and headers, whole request, idle keep-alive), oversized headers get 431, bodies beyond
// MAX_REQUEST_BODY_BYTES 413, malformed targets 400 (request-target.ts); an error is logged with its
// stack and answered 500 without details.
import https from 'node:https';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { DEFAULT_BPE_WEB_TIMEOUTS, type BpeWebServerConfig } from '../config.ts';
import type { BpeWebUiHandler } from '../ui/bpe-web-ui.ts';
import type { CertificateOf } from './client-certificate.ts';
import { parseRequestTarget } from '../../common/web/request-target.ts';
import { escapeHtml } from '../../common/web/html.ts';

export interface BpeStatus {
  organization: string;
  fhirBaseUrl: string;
  connected: boolean;
  plugins: string[];
  processes: { process: string; state: string }[];
}

export interface BpeWebServer {
  /** The configured external base URL, e.g. https://bpe.example.org/bpe */
  baseUrl: string;
  /** The BPE view: <baseUrl>/ui */
  uiUrl: string;
  /** How many client connections the server holds now (for operators' checks and tests). */
  connections(): Promise<number>;
  /** Closes the server; a second call does nothing. */
  close(): Promise<void>;
}

/** Where the server's own lines go (BpeLogger fits); never with request data beyond method and status. */
export interface WebLog {
  debug(message: string): void;
  error(message: string): void;
}

/** The view's forms post empty bodies (retry, cancel, sign-out); anything near this size is not one of them. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;
/** Node's default, stated: request line and headers beyond it are answered 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(JSON.stringify(body, null, 2));

/** A bare error page for answers before any route (the view's own pages need the caller). */
function errorPage(status: number, text: string): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${status} ${STATUS_CODES[status] ?? ''}</title></head><body><h1>${status} ${STATUS_CODES[status] ?? ''}</h1><p>${escapeHtml(text)}</p></body></html>\n`;
}

function sendError(res: ServerResponse, status: number, text: string, close = false): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, {
    'content-type': 'text/html;charset=UTF-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'",
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(errorPage(status, text));
}

/**
 * Requests Node's parser refuses (headers too large, malformed HTTP, too slow): a page, then the
 * connection closes. With a 'clientError' listener Node leaves the socket to it, so every path here
 * ends with the socket destroyed, a reset by the client too (else the server would hold it).
 */
function answerClientError(err: Error & { code?: string }, socket: Socket, log: WebLog | undefined): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return void socket.destroy();
  const [status, text] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request line and headers exceed the size this server accepts.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request was not received in time.']
        : [400, 'Malformed HTTP request.'];
  log?.debug(`client error ${err.code ?? ''}: ${status}`);
  if (socket.writable) {
    const body = errorPage(status, text);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/html;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/**
 * Reads the body, at most MAX_REQUEST_BODY_BYTES, as text (the view's forms carry their CSRF token in
 * it); undefined (and a 413 sent, or the request gone) otherwise.
 */
function readBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_REQUEST_BODY_BYTES) {
    sendError(res, 413, `The request body exceeds ${MAX_REQUEST_BODY_BYTES} bytes.`, true);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const done = (body: string | undefined) => {
      req.removeAllListeners('data');
      resolve(body);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > MAX_REQUEST_BODY_BYTES) {
        sendError(res, 413, `The request body exceeds ${MAX_REQUEST_BODY_BYTES} bytes.`, true);
        done(undefined);
      }
    });
    req.once('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.once('error', () => done(undefined));
    req.once('close', () => done(undefined));
  });
}

export async function startBpeWebServer(config: BpeWebServerConfig, status: () => BpeStatus, ui: BpeWebUiHandler, certificateOf: CertificateOf, log?: WebLog): Promise<BpeWebServer> {
  const base = new URL(config.baseUrl).pathname.replace(/\/$/, '');
  const t = { ...DEFAULT_BPE_WEB_TIMEOUTS, ...config.timeouts };
  const answerStatus = (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (req.method !== 'GET' || (path !== base && path !== `${base}/status`)) return json(res, 404, { error: `not found: GET ${base || '/'} or ${base}/status` });
    if (!certificateOf(req)) return json(res, 401, { error: 'a client certificate of a trusted CA is required' });
    json(res, 200, status());
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const parsed = parseRequestTarget(req.url);
    if (!parsed.ok) return sendError(res, 400, parsed.problem);
    let body: string | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD' && (body = await readBody(req, res)) === undefined) return;
    if (!(await ui(req, res, body))) answerStatus(req, res, parsed.target.path);
  };
  const server = https.createServer(
    {
      cert: config.serverCertificate,
      key: config.serverCertificateKey,
      ca: config.trustedClientCas,
      requestCert: true,
      rejectUnauthorized: false,
      maxHeaderSize: MAX_HEADER_BYTES,
      // The handshake counts towards the time a client has for its headers.
      handshakeTimeout: t.headersTimeoutMs,
      headersTimeout: t.headersTimeoutMs,
      requestTimeout: t.requestTimeoutMs,
      keepAliveTimeout: t.keepAliveTimeoutMs,
      // Node checks header and request timeouts at this interval; a fraction of the shortest keeps them close.
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(Math.min(t.headersTimeoutMs, t.requestTimeoutMs) / 4))),
    },
    (req, res) => {
      handle(req, res).catch((e: Error) => {
        log?.error(`${req.method} request failed: ${e.stack ?? e.message}`);
        sendError(res, 500, 'Internal server error.');
      });
    },
  );
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => answerClientError(err, socket, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  let closed: Promise<void> | undefined;
  return {
    baseUrl: config.baseUrl,
    uiUrl: `${config.baseUrl}/ui`,
    connections: () => new Promise<number>((resolve, reject) => server.getConnections((err, count) => (err ? reject(err) : resolve(count)))),
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
