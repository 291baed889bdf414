// The status port, as the reference's status connector: plain HTTP on its own host and port
// (DEV_DSF_SERVER_STATUS_HOST/_PORT), so a load balancer or monitoring system can ask without a
// client certificate. GET /status answers 200 when the server can reach its database, else 503;
// GET /metrics answers the Prometheus text format. Nothing else is served there.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface StatusReport {
  ok: boolean;
  /** Further facts for `dsf status` (JSON body of /status). */
  details?: Record<string, unknown>;
}

export interface StatusServerOptions {
  host: string;
  port: number;
  /** The health check behind GET /status (the reference: a database connection can be had). */
  status(): Promise<StatusReport>;
  registry: Registry;
}

export interface StatusServer {
  /** http://host:port */
  url: string;
  port: number;
  close(): Promise<void>;
}

const STATUS_TIMEOUT_MS = 5_000;

export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  const server = http.createServer((req, res) => {
    // The path may carry the server's context path, as the reference's (/fhir/status, /bpe/status).
    const path = new URL(req.url ?? '/', 'http://status').pathname.replace(/\/$/, '');
    const last = path.slice(path.lastIndexOf('/') + 1);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (last === 'status') {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<StatusReport>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, details: { error: 'status check timed out' } }), STATUS_TIMEOUT_MS);
      });
      Promise.race([opts.status().catch((e: Error) => ({ ok: false, details: { error: e.message } })), timeout])
        .then((report) => {
          clearTimeout(timer);
          res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: report.ok ? 'ok' : 'failing', ...report.details }));
        })
        .catch(() => res.writeHead(503).end());
      return;
    }
    if (last === 'metrics') {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e.message}\n`),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /status or /metrics\n');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
