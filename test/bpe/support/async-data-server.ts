// A FHIR data server of our own on loopback for the client tests, shaped like the reference's
// TestFhirDataServer: GET /Patient answers 202 with a Location that answers 202 twice and then a
// batch-response with an empty searchset; POST /DiagnosticReport/$test answers 202 with Retry-After
// (an HTTP date) and a Location that answers 202 with Retry-After: 1 twice, then the report; GET
// /Observation always 504. Everything it is asked is recorded (method, path, headers).
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  at: number;
}

export interface AsyncDataServer {
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startAsyncDataServer(opts: { certPem: string; keyPem: string; caPem?: string; requireClientCertificate?: boolean; requireAuthorization?: (value: string | undefined) => boolean }): Promise<AsyncDataServer> {
  const requests: RecordedRequest[] = [];
  let patientPolls = 0;
  let reportPolls = 0;
  const server = https.createServer({ cert: opts.certPem, key: opts.keyPem, ca: opts.caPem, requestCert: !!opts.requireClientCertificate, rejectUnauthorized: !!opts.requireClientCertificate }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, at: Date.now() });
    req.resume();
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    if (opts.requireAuthorization && !opts.requireAuthorization(req.headers.authorization)) {
      json(401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: 'no valid credentials' }] });
      return;
    }
    const base = `https://localhost:${(server.address() as AddressInfo).port}`;
    if (path === '/metadata') return json(200, { resourceType: 'CapabilityStatement', status: 'active', date: '2025-01-01', kind: 'instance', fhirVersion: '4.0.1', format: ['json'], software: { name: 'Async Test Data Server' } });
    if (path === '/Patient' && req.method === 'GET') {
      patientPolls = 0;
      res.writeHead(202, { location: `${base}/async/Patient` });
      return res.end();
    }
    if (path === '/async/Patient') {
      if (++patientPolls <= 2) {
        res.writeHead(202);
        return res.end();
      }
      return json(200, { resourceType: 'Bundle', type: 'batch-response', entry: [{ resource: { resourceType: 'Bundle', type: 'searchset', total: 0 }, response: { status: '200 OK', location: 'Patient' } }] });
    }
    if (path === '/DiagnosticReport/$test' && req.method === 'POST') {
      reportPolls = 0;
      res.writeHead(202, { location: `${base}/async/DiagnosticReport`, 'retry-after': new Date(Date.now() + 2000).toUTCString() });
      return res.end();
    }
    if (path === '/async/DiagnosticReport') {
      if (++reportPolls <= 2) {
        res.writeHead(202, { 'retry-after': '1' });
        return res.end();
      }
      return json(200, { resourceType: 'Bundle', type: 'batch-response', entry: [{ resource: { resourceType: 'DiagnosticReport', status: 'partial', code: { text: 'test' } }, response: { status: '200 OK' } }] });
    }
    if (path.startsWith('/Observation')) {
      res.writeHead(504);
      return res.end();
    }
    json(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `${req.method} ${path} unknown` }] });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `https://localhost:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
