// The demo's window into each BPE: GET <bpeBaseUrl> or <bpeBaseUrl>/status answers JSON with the
// organisation, whether the BPE is connected to its FHIR server, the deployed plugins and the state of
// each process; <bpeBaseUrl>/ui is the BPE view. HTTPS with the site's server certificate. The server
// asks for a client certificate but does not require one in the handshake (a browser without one must
// see the view's sign-in page, not a TLS error): the status endpoints refuse such callers with 401.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningBpe } from '../bpe/bpe-server.ts';
import { trustedCertificate, type BpeWebUiHandler } from '../bpe/ui/bpe-web-ui.ts';

export interface BpeStatus {
  organization: string;
  fhirBaseUrl: string;
  connected: boolean;
  plugins: string[];
  processes: { process: string; state: string }[];
}

export interface BpeStatusServer {
  baseUrl: string;
  close(): Promise<void>;
}

export async function startBpeStatusServer(opts: {
  bpe: RunningBpe;
  organization: string;
  fhirBaseUrl: string;
  port: number;
  cert: string;
  key: string;
  ca: string;
  /** The BPE's web view (under /bpe/ui); other paths are the status endpoints. */
  ui?: BpeWebUiHandler;
}): Promise<BpeStatusServer> {
  let connected = false;
  void opts.bpe.connected().then(() => (connected = true));
  const status = (): BpeStatus => ({
    organization: opts.organization,
    fhirBaseUrl: opts.fhirBaseUrl,
    connected,
    plugins: opts.bpe.deployment.plugins.map((p) => `${p.name}-${p.version}`),
    processes: opts.bpe.deployment.states.map((s) => ({ process: `${s.processId}|${s.version}`, state: s.newState })),
  });
  const server = https.createServer({ cert: opts.cert, key: opts.key, ca: opts.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    if (opts.ui) {
      opts.ui(req, res).then(
        (handled) => handled || answerStatus(req, res),
        () => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'internal error' })),
      );
      return;
    }
    answerStatus(req, res);
  });
  const answerStatus = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname.replace(/\/$/, '');
    if (req.method !== 'GET' || (path !== '/bpe' && path !== '/bpe/status')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found: GET /bpe or /bpe/status' }));
      return;
    }
    if (!trustedCertificate(req)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'a client certificate of a trusted CA is required' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status(), null, 2));
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `https://localhost:${port}/bpe`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
