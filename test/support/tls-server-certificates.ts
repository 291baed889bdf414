// A server certificate, its key and the CA that signed it, as PEM text, for a test's own TLS server on
// loopback: generated into a temporary folder before the file's tests and removed after them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, after } from 'node:test';
import { generateCertificates } from '../../src/cli/certs.ts';

export interface TlsServerCertificates {
  cert: string;
  key: string;
  ca: string;
}

/** Registers the before/after hooks; the returned object is filled once the `before` hook ran. */
export function tlsServerCertificatesForTests(prefix: string): TlsServerCertificates {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const certs: TlsServerCertificates = { cert: '', key: '', ca: '' };
  before(async () => {
    const set = await generateCertificates({ dir, organizations: ['server'] });
    const server = set.organizations['server']!.server;
    Object.assign(certs, { cert: readFileSync(server.certPath, 'utf8'), key: readFileSync(server.keyPath, 'utf8'), ca: readFileSync(set.ca.certPath, 'utf8') });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return certs;
}
