// S/MIME signing for the mail tests: a PKCS#12 key store with a test organisation's client key and
// certificate, the BPE configuration that signs mail with it, and openssl's verdict on a signed mail.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPkcs12 } from '../../src/common/pkcs12.ts';
import { readBpeConfig, type BpeConfig } from '../../src/bpe/config.ts';
import { testCertificates } from './fhir-site.ts';

export interface SigningKeyStore {
  /** The PKCS#12 file. */
  path: string;
  password: string;
  /** The test CA the signing certificate chains to. */
  caPath: string;
  /** The organisation's client certificate and key the store holds (PEM files). */
  certPath: string;
  keyPath: string;
}

let dir: string | undefined;
let files = 0;

/** A file in this module's temporary directory, removed when the process exits. */
function tempFile(name: string): string {
  if (!dir) {
    const created = mkdtempSync(join(tmpdir(), 'dsf-smime-'));
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
    dir = created;
  }
  return join(dir, `${++files}-${name}`);
}

/** A PKCS#12 key store with Test_Organization's client key and certificate. */
export async function signingKeyStore(password = 'p12-secret'): Promise<SigningKeyStore> {
  const certs = await testCertificates();
  const org = certs.organizations.Test_Organization!;
  const path = tempFile('signing.p12');
  writeFileSync(path, createPkcs12({ keyPem: readFileSync(org.client.keyPath, 'utf8'), certificatePems: [readFileSync(org.client.certPath, 'utf8')], password }));
  return { path, password, caPath: certs.ca.certPath, certPath: org.client.certPath, keyPath: org.client.keyPath };
}

/** The BPE configuration that mails to ops@test.org over the SMTP server at smtpPort, signing with the store. */
export function signedMailConfig(store: SigningKeyStore, smtpPort: number, env: Record<string, string> = {}): BpeConfig {
  return readBpeConfig({
    DEV_DSF_BPE_FHIR_SERVER_BASE_URL: 'https://localhost/fhir',
    DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE: store.certPath,
    DEV_DSF_BPE_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY: store.keyPath,
    DEV_DSF_BPE_MAIL_HOST: '127.0.0.1',
    DEV_DSF_BPE_MAIL_PORT: String(smtpPort),
    DEV_DSF_BPE_MAIL_FROMADDRESS: 'bpe@test.org',
    DEV_DSF_BPE_MAIL_TOADDRESSES: 'ops@test.org',
    DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE: store.path,
    DEV_DSF_BPE_MAIL_SMIME_P12KEYSTORE_PASSWORD: store.password,
    ...env,
  });
}

export interface SmimeVerdict {
  /** openssl's exit status: 0 when the signature verifies against the CA. */
  status: number | null;
  stdout: string;
  stderr: string;
  /** The signed part's text (decoded from base64). */
  text: string;
}

/** `openssl smime -verify` of a raw mail against the CA. */
export function verifySmime(raw: string, caPath: string): SmimeVerdict {
  const file = tempFile('mail.eml');
  writeFileSync(file, raw);
  const r = spawnSync('openssl', ['smime', '-verify', '-in', file, '-CAfile', caPath, '-purpose', 'any'], { encoding: 'utf8' });
  const body = r.stdout.split('\r\n\r\n')[1] ?? r.stdout.split('\n\n')[1] ?? '';
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, text: Buffer.from(body, 'base64').toString('utf8') };
}
