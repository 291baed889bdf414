// `dsf certs`: a test/demo PKI on disk. One CA, and for each organisation a server certificate (for
// its FHIR server's TLS) and a client certificate (its identity towards other sites, whose
// thumbprint goes into its Organization resource), plus client certificates for local users.
// Running it again keeps whatever is still usable and only fills the gaps.
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { thumbprintSha512, verifyChain } from '../common/x509.ts';
import { createPkcs12 } from '../common/pkcs12.ts';
import {
  createCa,
  issueCertificate,
  writeCertificateFile,
  writePrivateKeyFile,
  type CertificateAuthority,
  type IssueCertificateOptions,
} from '../common/x509-generate.ts';

export interface CertificateFiles {
  certPath: string;
  keyPath: string;
  /** SHA-512 of the certificate's DER encoding, lowercase hex. */
  thumbprint: string;
  /** False when an existing, still usable pair was kept. */
  created: boolean;
}

export interface OrganizationCertificates {
  server: CertificateFiles;
  client: CertificateFiles;
}

export interface UserCertificates extends CertificateFiles {
  email: string;
  /** <name>.p12 beside the PEM files (key, certificate and CA), when a PKCS#12 password was given. */
  p12Path?: string;
}

export interface CertificateSet {
  /** Absolute path of the folder holding everything. */
  dir: string;
  ca: CertificateFiles;
  organizations: Record<string, OrganizationCertificates>;
  users: Record<string, UserCertificates>;
}

export interface GenerateCertificatesOptions {
  dir: string;
  organizations: string[];
  users?: { name: string; email: string }[];
  /** Names and addresses the servers answer to; default localhost and 127.0.0.1. */
  hostnames?: string[];
  /** Also write each user's key, certificate and the CA as <name>.p12 with this password (for browsers, keytool, curl). */
  userPkcs12Password?: string;
}

const DEFAULT_HOSTNAMES = ['localhost', '127.0.0.1'];
// Organisation and user names become file and folder names.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function generateCertificates(opts: GenerateCertificatesOptions): Promise<CertificateSet> {
  const dir = resolve(opts.dir);
  const hostnames = opts.hostnames && opts.hostnames.length > 0 ? opts.hostnames : DEFAULT_HOSTNAMES;
  checkNames(opts);
  mkdirSync(dir, { recursive: true });

  const { ca, files: caFiles } = await loadOrCreateCa(dir);
  const set: CertificateSet = { dir, ca: caFiles, organizations: {}, users: {} };

  const dnsNames = hostnames.filter((h) => !isIP(h));
  const ipAddresses = hostnames.filter((h) => isIP(h));
  for (const org of opts.organizations) {
    const orgDir = join(dir, org);
    mkdirSync(orgDir, { recursive: true });
    const server = await ensureIssued(ca, join(orgDir, 'server.crt'), join(orgDir, 'server.key'), {
      commonName: dnsNames[0] ?? ipAddresses[0]!,
      organization: org,
      kind: 'server',
      dnsNames,
      ipAddresses,
    });
    const client = await ensureIssued(ca, join(orgDir, 'client.crt'), join(orgDir, 'client.key'), {
      commonName: org,
      organization: org,
      kind: 'client',
    });
    set.organizations[org] = { server, client };
  }

  if (opts.users && opts.users.length > 0) {
    const usersDir = join(dir, 'users');
    mkdirSync(usersDir, { recursive: true });
    for (const user of opts.users) {
      const files = await ensureIssued(ca, join(usersDir, `${user.name}.crt`), join(usersDir, `${user.name}.key`), {
        commonName: user.name,
        kind: 'client',
        email: user.email,
      });
      set.users[user.name] = { ...files, email: user.email };
      if (opts.userPkcs12Password !== undefined) {
        const p12Path = join(usersDir, `${user.name}.p12`);
        // Rewritten with its pair: a kept p12 could hold a replaced key.
        if (files.created || !existsSync(p12Path)) {
          const pfx = createPkcs12({
            keyPem: readFileSync(files.keyPath, 'utf8'),
            certificatePems: [readFileSync(files.certPath, 'utf8'), readFileSync(caFiles.certPath, 'utf8')],
            password: opts.userPkcs12Password,
            friendlyName: user.name,
          });
          writeFileSync(p12Path, pfx, { mode: 0o600 });
        }
        set.users[user.name]!.p12Path = p12Path;
      }
    }
  }
  return set;
}

export function registerCertsCommand(program: Command): void {
  program
    .command('certs')
    .description('create a test CA and server, client and user certificates (for tests and demos, not for production)')
    .requiredOption('--dir <dir>', 'folder for the CA and certificates (existing usable files are kept)')
    .requiredOption('--org <id...>', 'organisation identifiers: each gets <dir>/<id>/server.crt|key and client.crt|key')
    .option('--user <name:email...>', 'local users: each gets <dir>/users/<name>.crt|key with the e-mail address')
    .option('--host <name...>', 'host names and IP addresses in the server certificates (default localhost 127.0.0.1)')
    .option('--p12-password <password>', "also write each user's key and certificates as <dir>/users/<name>.p12 with this password")
    .action(async (options: { dir: string; org: string[]; user?: string[]; host?: string[]; p12Password?: string }, command: Command) => {
      const users = (options.user ?? []).map(parseUserArgument);
      const set = await generateCertificates({ dir: options.dir, organizations: options.org, users, hostnames: options.host, userPkcs12Password: options.p12Password });
      // commander's output setting (inherited from the program when set before registering), so
      // callers and tests can capture it; defaults to stdout.
      const writeOut = command.configureOutput().writeOut ?? ((text: string) => process.stdout.write(text));
      writeOut(describeCertificateSet(set));
    });
}

/** Human-readable list of what was written or kept, with the thumbprints operators paste into Organizations. */
export function describeCertificateSet(set: CertificateSet): string {
  const lines: string[] = [`certificates in ${set.dir}`];
  const line = (label: string, f: CertificateFiles) =>
    lines.push(`  ${label}: ${f.created ? 'created' : 'kept'} ${f.certPath}, ${f.keyPath}\n    thumbprint ${f.thumbprint}`);
  line('CA', set.ca);
  for (const [org, certs] of Object.entries(set.organizations)) {
    line(`${org} server`, certs.server);
    line(`${org} client`, certs.client);
  }
  for (const [name, user] of Object.entries(set.users)) {
    line(`user ${name} <${user.email}>`, user);
    if (user.p12Path) lines.push(`    PKCS#12 ${user.p12Path}`);
  }
  return lines.join('\n') + '\n';
}

function parseUserArgument(value: string): { name: string; email: string } {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) throw new Error(`--user expects name:email, got "${value}"`);
  return { name: value.slice(0, colon), email: value.slice(colon + 1) };
}

function checkNames(opts: GenerateCertificatesOptions): void {
  const problems: string[] = [];
  if (opts.organizations.length === 0) problems.push('at least one organisation is needed');
  for (const org of opts.organizations) {
    if (!SAFE_NAME.test(org)) problems.push(`organisation "${org}" must match ${SAFE_NAME}`);
  }
  for (const user of opts.users ?? []) {
    if (!SAFE_NAME.test(user.name)) problems.push(`user "${user.name}" must match ${SAFE_NAME}`);
    if (!/^[^@\s]+@[^@\s]+$/.test(user.email)) problems.push(`user "${user.name}": "${user.email}" is not an e-mail address`);
    if (user.name === 'users') problems.push('"users" is reserved');
  }
  for (const host of opts.hostnames ?? []) {
    if (!isIP(host) && !/^[A-Za-z0-9*]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) {
      problems.push(`"${host}" is neither a host name nor an IP address`);
    }
  }
  if (opts.organizations.includes('users')) problems.push('organisation "users" clashes with the users folder');
  if (problems.length > 0) throw new Error(`cannot generate certificates:\n  ${problems.join('\n  ')}`);
}

async function loadOrCreateCa(dir: string): Promise<{ ca: CertificateAuthority; files: CertificateFiles }> {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  const haveCert = existsSync(certPath);
  const haveKey = existsSync(keyPath);
  if (haveCert && haveKey) {
    const ca = { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
    if (!keyMatchesCertificate(ca.keyPem, ca.certPem)) throw new Error(`${keyPath} is not the key of ${certPath}`);
    const usable = verifyChain(ca.certPem, [ca.certPem]);
    if (usable !== true) throw new Error(`the CA in ${certPath} cannot be used: ${usable.message}`);
    return { ca, files: { certPath, keyPath, thumbprint: thumbprintSha512(ca.certPem), created: false } };
  }
  // Never replace half of an existing CA: everything issued by it would silently stop matching.
  if (haveCert || haveKey) throw new Error(`found only one of ${certPath} and ${keyPath}; remove it or supply the other`);
  const ca = await createCa({ commonName: 'DSF Test CA', organization: 'DSF test PKI (not for production)' });
  writePrivateKeyFile(keyPath, ca.keyPem);
  writeCertificateFile(certPath, ca.certPem);
  return { ca, files: { certPath, keyPath, thumbprint: thumbprintSha512(ca.certPem), created: true } };
}

/** Keeps an existing pair when it still fits the request, otherwise issues and writes a new one. */
async function ensureIssued(ca: CertificateAuthority, certPath: string, keyPath: string, request: IssueCertificateOptions): Promise<CertificateFiles> {
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    if (existingStillFits(ca, certPem, keyPem, request)) {
      return { certPath, keyPath, thumbprint: thumbprintSha512(certPem), created: false };
    }
  }
  const issued = await issueCertificate(ca, request);
  // Key first: a crash in between leaves a mismatched pair, which the next run replaces.
  writePrivateKeyFile(keyPath, issued.keyPem);
  writeCertificateFile(certPath, issued.certPem);
  return { certPath, keyPath, thumbprint: issued.thumbprint, created: true };
}

function existingStillFits(ca: CertificateAuthority, certPem: string, keyPem: string, request: IssueCertificateOptions): boolean {
  try {
    if (verifyChain(certPem, [ca.certPem]) !== true) return false;
    if (!keyMatchesCertificate(keyPem, certPem)) return false;
    const cert = new X509Certificate(certPem);
    const san = (cert.subjectAltName ?? '').split(', ');
    const sanIps = san.filter((e) => e.startsWith('IP Address:')).map((e) => canonicalIp(e.slice('IP Address:'.length)));
    for (const dns of request.dnsNames ?? []) if (!san.includes(`DNS:${dns}`)) return false;
    for (const ip of request.ipAddresses ?? []) if (!sanIps.includes(canonicalIp(ip))) return false;
    if (request.email && !san.includes(`email:${request.email}`)) return false;
    return true;
  } catch {
    return false;
  }
}

// Node prints IPv6 SAN entries uncompressed and in upper case; compare in one form.
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.toLowerCase() : ip;
}

function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  const fromKey = createPublicKey(keyPem).export({ format: 'der', type: 'spki' });
  const fromCert = new X509Certificate(certPem).publicKey.export({ format: 'der', type: 'spki' });
  return fromKey.equals(fromCert);
}
