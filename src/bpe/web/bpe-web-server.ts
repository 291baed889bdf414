// The BPE's HTTPS server (DEV_DSF_BPE_SERVER_BASE_URL, e.g. https://bpe.example.org/bpe): GET <base> and
// <base>/status answer JSON with the organisation, whether the BPE is connected to its FHIR server, the
// deployed plugins and each process's state; <base>/ui is the BPE view (src/bpe/ui). The server asks for a
// client certificate but does not require one in the handshake (a browser without one must see the
// view's sign-in page, not a TLS error): the status endpoints refuse such callers with 401. Behind a
// reverse proxy the certificate comes in its header (client-certificate.ts).
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BpeWebServerConfig } from '../config.ts';
import type { BpeWebUiHandler } from '../ui/bpe-web-ui.ts';
import type { CertificateOf } from './client-certificate.ts';

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
  /** Closes the server; a second call does nothing. */
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(JSON.stringify(body, null, 2));

export async function startBpeWebServer(config: BpeWebServerConfig, status: () => BpeStatus, ui: BpeWebUiHandler, certificateOf: CertificateOf): Promise<BpeWebServer> {
  const base = new URL(config.baseUrl).pathname.replace(/\/$/, '');
  const answerStatus = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname.replace(/\/$/, '');
    if (req.method !== 'GET' || (path !== base && path !== `${base}/status`)) return json(res, 404, { error: `not found: GET ${base || '/'} or ${base}/status` });
    if (!certificateOf(req)) return json(res, 401, { error: 'a client certificate of a trusted CA is required' });
    json(res, 200, status());
  };
  const server = https.createServer(
    { cert: config.serverCertificate, key: config.serverCertificateKey, ca: config.trustedClientCas, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      ui(req, res).then(
        (handled) => handled || answerStatus(req, res),
        () => json(res, 500, { error: 'internal error' }),
      );
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  let closed: Promise<void> | undefined;
  return {
    baseUrl: config.baseUrl,
    uiUrl: `${config.baseUrl}/ui`,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
