// DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG: the reference's YAML of FHIR server connections for
// plugins (id -> base-url, timeouts, trusted-root-certificates-file, cert-auth, basic-auth,
// bearer-auth, oidc-auth), with the _DEFAULT_ variables for what an entry leaves out. Parsing checks
// the reference's rules and reads every file; each problem names the entry and the property
// (`id.cert-auth.password-file: more than one line`). Key stores are built later (asynchronously).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface ConnectionDefaults {
  testConnectionOnStartup: boolean;
  enableDebugLogging: boolean;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** PEM certificates of the default trust store. */
  trustedCas: string[];
  oidcDiscoveryPath: string;
  oidcVerifyAuthorizedParty: boolean;
}

export interface CertificateAuthSpec {
  p12File?: string;
  certificatePem?: string;
  privateKeyPem?: string;
  password?: string;
}

export interface OidcAuthSpec {
  baseUrl: string;
  discoveryPath: string;
  startupConnectionTestEnabled: boolean;
  debugLoggingEnabled: boolean;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  trustedCas: string[];
  clientId: string;
  clientSecret: string;
  requiredAudiences: string[];
  verifyAuthorizedParty: boolean;
}

/** One entry, validated, files read, defaults applied. */
export interface ConnectionSpec {
  fhirServerId: string;
  baseUrl: string;
  startupConnectionTestEnabled: boolean;
  debugLoggingEnabled: boolean;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  trustedCas: string[];
  certAuth?: CertificateAuthSpec;
  basicAuth?: { username: string; password: string };
  bearerAuth?: { token: string };
  oidcAuth?: OidcAuthSpec;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;
type Json = Record<string, unknown>;

/** ISO-8601 duration (PnDTnHnMn.nS) or a number of seconds, as milliseconds. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value * 1000;
  if (typeof value !== 'string') return undefined;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(value.trim());
  if (!m || /^PT?$/i.test(value.trim())) return undefined;
  return Math.round((((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60 + Number(m[4] ?? 0)) * 1000);
}

/** PEM certificates of a file, or of the .pem/.crt files of a folder. */
export function readPemCertificates(path: string): string[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .sort()
        .filter((f) => /\.(pem|crt)$/i.test(f))
        .map((f) => join(path, f))
    : [path];
  const out: string[] = [];
  for (const f of files) out.push(...(readFileSync(f, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []));
  return out;
}

class EntryReader {
  constructor(
    readonly problems: string[],
    readonly prefix: string,
    readonly values: Json,
  ) {}

  private problem(names: string | string[], message: string): void {
    const list = Array.isArray(names) ? names : [names];
    this.problems.push(`${list.map((n) => `${this.prefix}${n}`).join(', ')}: ${message}`);
  }

  string(name: string): string | undefined {
    const v = this.values[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    this.problem(name, 'not a text value');
    return undefined;
  }

  bool(name: string): boolean | undefined {
    const v = this.values[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|yes|on)$/i.test(v)) return true;
    if (typeof v === 'string' && /^(false|no|off)$/i.test(v)) return false;
    this.problem(name, `'${String(v)}' is not a boolean`);
    return undefined;
  }

  duration(name: string): number | undefined {
    const v = this.values[name];
    if (v === undefined || v === null) return undefined;
    const ms = durationMs(v);
    if (ms === undefined) this.problem(name, `'${String(v)}' is not an ISO-8601 duration`);
    else if (ms > MAX_TIMEOUT_MS) this.problem(name, 'too large, max. P24DT20H31M23.647S');
    return ms;
  }

  object(name: string): Json | undefined {
    const v = this.values[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'object' && !Array.isArray(v)) return v as Json;
    this.problem(name, 'not a mapping');
    return undefined;
  }

  list(name: string): string[] | undefined {
    const v = this.values[name];
    if (v === undefined || v === null) return undefined;
    const values = Array.isArray(v) ? v : [v];
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] !== 'string' || !(values[i] as string).trim()) {
        this.problem(name, `value at index ${i} not defined or blank`);
        return undefined;
      }
    }
    return values as string[];
  }

  requireNotBlank(name: string, value: string | undefined): void {
    if (value === undefined || !value.trim()) this.problem(name, 'not defined or blank');
  }

  notBlankIfSet(name: string, value: string | undefined): void {
    if (value !== undefined && !value.trim()) this.problem(name, 'blank');
  }

  conflicting(a: string, va: unknown, b: string, vb: unknown): boolean {
    if (va !== undefined && vb !== undefined) {
      this.problem([a, b], 'defined');
      return true;
    }
    return false;
  }

  /** A readable, non-empty file; its path. */
  file(name: string, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    if (!value.trim()) return void this.problem(name, 'blank');
    if (!existsSync(value)) return void this.problem(name, `file '${value}' not readable`);
    try {
      if (!statSync(value).isDirectory() && statSync(value).size <= 0) return void this.problem(name, 'file empty');
      if (!statSync(value).isDirectory()) readFileSync(value);
    } catch (e) {
      return void this.problem(name, `file '${value}' not readable: ${(e as Error).message}`);
    }
    return value;
  }

  /** The first line of a secret file, which must have exactly one non-blank line. */
  secretFile(name: string, value: string | undefined): string | undefined {
    const path = this.file(name, value);
    if (path === undefined) return undefined;
    const text = readFileSync(path, 'utf8');
    const m = /\r?\n|\r/.exec(text);
    const first = m ? text.slice(0, m.index) : text;
    if (!first.trim()) return void this.problem(name, 'first line empty or blank');
    if (m && text.length > m.index + m[0].length) return void this.problem(name, 'more than one line');
    return first;
  }

  trustedCas(name: string, fallback: string[]): string[] {
    const path = this.file(name, this.string(name));
    if (path === undefined) return fallback;
    const pems = readPemCertificates(path);
    if (pems.length === 0) this.problem(name, 'no certificates');
    return pems;
  }

  secret(valueName: string, fileName: string): string | undefined {
    const value = this.string(valueName);
    this.notBlankIfSet(valueName, value);
    const fromFile = this.secretFile(fileName, this.string(fileName));
    this.conflicting(valueName, value, fileName, this.values[fileName] ?? undefined);
    return value ?? fromFile;
  }

  child(name: string, values: Json): EntryReader {
    return new EntryReader(this.problems, `${this.prefix}${name}.`, values);
  }

  report(names: string | string[], message: string): void {
    this.problem(names, message);
  }
}

const LATIN1 = /^[\u0000-\u00ff]*$/;

/** Parses and checks the YAML; no YAML (or blank) means no connections. */
export function parseClientConnections(yaml: string | undefined, defaults: ConnectionDefaults): { specs: ConnectionSpec[]; problems: string[] } {
  const problems: string[] = [];
  if (!yaml?.trim()) return { specs: [], problems };
  let doc: unknown;
  try {
    // YAML 1.1 as the reference's parser: yes/no are booleans.
    doc = parse(yaml, { version: '1.1' });
  } catch (e) {
    return { specs: [], problems: [`DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG: not valid YAML: ${(e as Error).message}`] };
  }
  if (doc === null || doc === undefined) return { specs: [], problems };
  if (typeof doc !== 'object' || Array.isArray(doc)) return { specs: [], problems: ['DEV_DSF_BPE_FHIR_CLIENT_CONNECTIONS_CONFIG: must map connection ids to settings'] };
  const specs: ConnectionSpec[] = [];
  for (const [id, raw] of Object.entries(doc as Json)) {
    if (raw === null || raw === undefined) {
      problems.push(`${id}: not configured`);
      continue;
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${id}: not a mapping`);
      continue;
    }
    if (id.startsWith('#')) problems.push(`${id}: ids starting with # are reserved (#local, #<endpoint identifier>)`);
    const before = problems.length;
    const r = new EntryReader(problems, `${id}.`, raw as Json);
    const baseUrl = r.string('base-url');
    r.requireNotBlank('base-url', baseUrl);
    const spec: ConnectionSpec = {
      fhirServerId: id,
      baseUrl: (baseUrl ?? '').replace(/\/$/, ''),
      startupConnectionTestEnabled: r.bool('test-connection-on-startup') ?? defaults.testConnectionOnStartup,
      debugLoggingEnabled: r.bool('enable-debug-logging') ?? defaults.enableDebugLogging,
      connectTimeoutMs: r.duration('connect-timeout') ?? defaults.connectTimeoutMs,
      readTimeoutMs: r.duration('read-timeout') ?? defaults.readTimeoutMs,
      trustedCas: r.trustedCas('trusted-root-certificates-file', defaults.trustedCas),
    };
    const cert = r.object('cert-auth');
    if (cert) spec.certAuth = readCertAuth(r.child('cert-auth', cert));
    const basic = r.object('basic-auth');
    if (basic) spec.basicAuth = readBasicAuth(r.child('basic-auth', basic));
    const bearer = r.object('bearer-auth');
    if (bearer) {
      const b = r.child('bearer-auth', bearer);
      const token = b.secret('token', 'token-file');
      if (token === undefined) b.report(['token', 'token-file'], 'not defined');
      spec.bearerAuth = { token: token ?? '' };
    }
    const oidc = r.object('oidc-auth');
    if (oidc) spec.oidcAuth = readOidcAuth(r.child('oidc-auth', oidc), defaults);
    if (problems.length === before) specs.push(spec);
  }
  return { specs, problems };
}

function readCertAuth(r: EntryReader): CertificateAuthSpec {
  const p12 = r.file('p12-file', r.string('p12-file'));
  const certFile = r.file('certificate-file', r.string('certificate-file'));
  const keyFile = r.file('private-key-file', r.string('private-key-file'));
  const rawKey = r.string('private-key-file');
  const rawCert = r.string('certificate-file');
  if (rawKey !== undefined && (rawCert === undefined || !rawCert.trim())) r.report('certificate-file', 'not defined or blank');
  else if ((rawKey === undefined || !rawKey.trim()) && rawCert !== undefined) r.report('private-key-file', 'not defined or blank');
  r.conflicting('p12-file', r.string('p12-file'), 'private-key-file', rawKey);
  r.conflicting('p12-file', r.string('p12-file'), 'certificate-file', rawCert);
  const password = r.secret('password', 'password-file');
  if (password !== undefined && r.string('p12-file') === undefined && rawCert === undefined && rawKey === undefined) {
    r.report(['p12-file', 'certificate-file', 'private-key-file'], 'not defined or blank');
  }
  return {
    p12File: p12,
    certificatePem: certFile ? readFileSync(certFile, 'utf8') : undefined,
    privateKeyPem: keyFile ? readFileSync(keyFile, 'utf8') : undefined,
    password,
  };
}

function readBasicAuth(r: EntryReader): { username: string; password: string } {
  const username = r.string('username');
  r.requireNotBlank('username', username);
  const password = r.secret('password', 'password-file');
  if (password !== undefined && !LATIN1.test(password)) r.report(r.string('password') !== undefined ? 'password' : 'password-file', 'not encodable with ISO-8859-1');
  if (username?.trim() && password === undefined) r.report(['password', 'password-file'], 'not defined');
  return { username: username ?? '', password: password ?? '' };
}

function readOidcAuth(r: EntryReader, defaults: ConnectionDefaults): OidcAuthSpec {
  const baseUrl = r.string('base-url');
  r.requireNotBlank('base-url', baseUrl);
  const clientId = r.string('client-id');
  r.requireNotBlank('client-id', clientId);
  const clientSecret = r.secret('client-secret', 'client-secret-file');
  if (clientSecret === undefined && r.string('client-secret') === undefined && !r.string('client-secret-file')?.trim()) r.report(['client-secret', 'client-secret-file'], 'not defined');
  const discovery = r.string('discovery-path') ?? defaults.oidcDiscoveryPath;
  return {
    baseUrl: (baseUrl ?? '').replace(/\/$/, ''),
    discoveryPath: discovery.startsWith('/') ? discovery : `/${discovery}`,
    startupConnectionTestEnabled: r.bool('test-connection-on-startup') ?? defaults.testConnectionOnStartup,
    debugLoggingEnabled: r.bool('enable-debug-logging') ?? defaults.enableDebugLogging,
    connectTimeoutMs: r.duration('connect-timeout') ?? defaults.connectTimeoutMs,
    readTimeoutMs: r.duration('read-timeout') ?? defaults.readTimeoutMs,
    trustedCas: r.trustedCas('trusted-root-certificates-file', defaults.trustedCas),
    clientId: clientId ?? '',
    clientSecret: clientSecret ?? '',
    requiredAudiences: r.list('required-audience') ?? [],
    verifyAuthorizedParty: r.bool('verify-authorized-party') ?? defaults.oidcVerifyAuthorizedParty,
  };
}
