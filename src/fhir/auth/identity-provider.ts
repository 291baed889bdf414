// Who is calling. A request is authenticated by
//   1. an `Authorization: Bearer` JWT, when OIDC bearer tokens are enabled (oidc-bearer.ts), or
//   2. a client certificate: the TLS peer certificate, or, from a trusted reverse-proxy address only,
//      the PEM certificate in the configured header (X-ClientCert). The certificate must chain to a
//      trusted client CA and be within its validity dates.
// A certificate's SHA-512 thumbprint finds an active Organization (thumbprint extension) or an
// active Endpoint carrying it (then its managing Organization); the organisation is local when its
// identifier is the configured one. Otherwise the role configuration may make the certificate (by
// thumbprint or e-mail) or the token (by e-mail, roles, groups) a local user. Anything else: 401.
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Endpoint, Organization } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { headerCertificateToPem, parseCertificatePem, thumbprintSha512, type CertificateInfo } from '../../common/x509.ts';
import type { WriteHooks } from '../service/write-hooks.ts';
import { currentById, currentByUniqueKey, currentContaining } from '../store/resource-lookups.ts';
import { organizationByIdentifier } from '../store/organization-lookups.ts';
import { thumbprintKey } from '../types/organization.ts';
import { THUMBPRINT_EXTENSION } from '../model/dsf-urls.ts';
import {
  localOrganizationRoles,
  ORGANIZATION_IDENTIFIER_SYSTEM,
  remoteOrganizationRoles,
  type Identity,
  type OrganizationIdentity,
  type PractitionerIdentity,
} from '../types/identity.ts';
import { IdentityCache } from './identity-cache.ts';
import { TrustedCertificates } from './trusted-certificates.ts';
import type { RoleConfig, RoleMatch } from './role-config.ts';
import { bearerError, type OidcBearerVerifier } from './oidc-bearer.ts';
import { SESSION_COOKIE, type OidcLogin } from '../../common/web/oidc-login.ts';
import { cookieValue } from '../../common/web/cookies.ts';


export interface IdentityProviderOptions {
  pool: pg.Pool;
  /** DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE */
  localOrganizationIdentifier: string;
  /** PEM CAs (files may hold several certificates) trusted for client certificates. */
  trustedClientCas: readonly string[];
  roleConfig: RoleConfig;
  /** Header with the client certificate forwarded by a reverse proxy (any case). */
  clientCertificateHeader?: string;
  /** Peer addresses whose certificate header is believed; from anywhere else it is ignored. */
  trustedProxyAddresses?: readonly string[];
  oidc?: OidcBearerVerifier;
  /** Browser sign-in by OIDC: a session cookie identifies a local user (after bearer tokens and certificates). */
  sessions?: OidcLogin;
  /** Longest time a resolved identity is reused without looking again (default 30 s). */
  cacheTtlMs?: number;
}

export class IdentityProvider {
  readonly cache: IdentityCache;
  private readonly header: string;
  private readonly trustedProxies: Set<string>;
  private readonly trusted: TrustedCertificates;
  private readonly socketCertificates = new WeakMap<object, Buffer | undefined>();
  /** SHA-512 thumbprints of the certificates read from sockets (the same Buffer for every request of a connection). */
  private readonly thumbprints = new WeakMap<Buffer, string>();
  /** The identity of each TLS connection's own certificate, while the cache and the trust check would give it. */
  private readonly connectionIdentities = new WeakMap<object, ConnectionIdentity>();

  constructor(private readonly opts: IdentityProviderOptions) {
    this.cache = new IdentityCache(opts.cacheTtlMs ?? 30_000);
    this.header = (opts.clientCertificateHeader ?? 'X-ClientCert').toLowerCase();
    this.trustedProxies = new Set((opts.trustedProxyAddresses ?? []).map(normalizeAddress));
    this.trusted = new TrustedCertificates(opts.trustedClientCas);
  }

  /** Feed of committed changes (the event stream): drops cached identities they may affect. */
  observe(change: { type: string }): void {
    this.cache.committed(change.type);
  }

  /** A change could not be handled: nothing cached can be trusted. */
  observeGap(): void {
    this.cache.clear();
  }

  /** Clears cached identities when Organizations, Endpoints or affiliations change. */
  hooks(): WriteHooks {
    return this.cache.hooks();
  }

  /** The identity of a request, or a 401 FhirError. */
  async resolve(req: FastifyRequest): Promise<Identity> {
    const authorization = req.headers.authorization;
    if (typeof authorization === 'string' && /^bearer\s/i.test(authorization)) {
      if (!this.opts.oidc) throw unauthenticated('Bearer tokens are not accepted by this server; use a client certificate');
      return this.resolveToken(authorization.replace(/^bearer\s+/i, '').trim());
    }
    const certificate = this.certificateOf(req);
    if (!certificate) {
      const session = this.opts.sessions && cookieValue(req.headers.cookie, SESSION_COOKIE);
      if (session) return this.resolveSession(session);
      throw unauthenticated(this.opts.sessions ? 'A client certificate or a sign-in is required' : 'A client certificate is required');
    }
    return this.resolveCertificate(certificate);
  }

  /**
   * The identity of a request by client certificate when it is cached (trust and dates checked as in
   * resolve()), without a promise; undefined when resolve() must decide (anything else, including a
   * refusal, comes from resolve()).
   */
  resolveCached(req: FastifyRequest): Identity | undefined {
    if (req.headers.authorization !== undefined) return undefined;
    // The certificate of a TLS connection cannot change: its identity is kept on the connection (no
    // string key per request) for as long as the cache entry and the trust check it came from hold.
    const socket = req.raw.socket;
    const now = Date.now();
    const known = this.connectionIdentities.get(socket);
    if (known !== undefined && known.generation === this.cache.generation && now < known.until && now >= known.from) return known.identity;
    let der: Buffer | undefined;
    try {
      der = this.certificateOf(req);
    } catch {
      return undefined;
    }
    const thumbprint = der && this.thumbprints.get(der);
    const window = thumbprint === undefined ? undefined : this.trusted.validWindow(thumbprint, now);
    if (window === undefined) return undefined;
    const generation = this.cache.generation;
    const entry = this.cache.entry(`cert:${thumbprint}`, now);
    if (!entry?.value) return undefined;
    // Not for a trusted proxy's connection: its requests name their callers in a header each.
    if (!this.trustedProxies.has(normalizeAddress(socket.remoteAddress ?? ''))) {
      this.connectionIdentities.set(socket, { identity: entry.value, generation, from: window.notBefore, until: Math.min(entry.expiresAt, window.notAfter + 1) });
    }
    return entry.value;
  }

  /** True when the request is authenticated by a sign-in session (not a certificate or token). */
  isSession(req: FastifyRequest): boolean {
    return !!this.opts.sessions && !req.headers.authorization && !this.certificateOf(req) && !!cookieValue(req.headers.cookie, SESSION_COOKIE);
  }

  private async resolveSession(value: string): Promise<Identity> {
    const claims = await this.opts.sessions!.session(value);
    if (!claims || claims.expiresAt.getTime() <= Date.now()) throw unauthenticated('The sign-in has expired; please sign in again');
    const identity = await this.cache.getOrLoad(`session:${value}`, async () => {
      const match = this.opts.roleConfig.match({ emails: claims.emails, tokenRoles: claims.tokenRoles, tokenGroups: claims.tokenGroups });
      return { value: await this.localUser(match, { email: claims.emails[0], displayName: claims.name, expiresAt: claims.expiresAt }), notAfter: claims.expiresAt };
    });
    if (!identity) throw unauthenticated('The signed-in account is not a user of this site (role configuration)', 'security');
    return identity;
  }

  /** The client certificate (DER) of the request: from a trusted proxy's header, else from TLS. */
  certificateOf(req: FastifyRequest): Buffer | undefined {
    const peer = normalizeAddress(req.raw.socket.remoteAddress ?? '');
    if (this.trustedProxies.has(peer)) {
      const value = req.headers[this.header];
      if (value !== undefined) {
        const pem = headerCertificateToPem(value);
        if (!pem) throw unauthenticated(`The ${this.opts.clientCertificateHeader ?? 'X-ClientCert'} header holds no certificate`);
        return parseCertificatePem(pem).der;
      }
    }
    const socket = req.raw.socket as Partial<TLSSocket>;
    if (typeof socket.getPeerCertificate !== 'function') return undefined;
    // The peer certificate cannot change on a connection; reading it builds a large object, so once per socket.
    if (!this.socketCertificates.has(socket)) {
      const peerCertificate = socket.getPeerCertificate(false);
      this.socketCertificates.set(socket, peerCertificate && peerCertificate.raw && peerCertificate.raw.length > 0 ? peerCertificate.raw : undefined);
    }
    return this.socketCertificates.get(socket);
  }

  /** Identity of a certificate (DER or PEM): checks trust and dates, then looks it up (cached). */
  async resolveCertificate(certificate: Buffer | string): Promise<Identity> {
    const der = typeof certificate === 'string' ? parseCertificatePem(certificate).der : certificate;
    let thumbprint = this.thumbprints.get(der);
    if (thumbprint === undefined) this.thumbprints.set(der, (thumbprint = thumbprintSha512(der)));
    // Trust and dates are checked before a cached identity is used (remembered per certificate).
    const chain = this.trusted.check(thumbprint, der);
    if (chain !== true) throw unauthenticated(`Client certificate not accepted: ${chain.message}`, 'security');
    const identity = await this.cache.getOrLoad(`cert:${thumbprint}`, async () => {
      const info = parseCertificatePem(der);
      return { value: await this.lookupCertificate(info), notAfter: info.notAfter };
    });
    if (!identity) throw unauthenticated(`Unknown client certificate (thumbprint ${thumbprint.slice(0, 16)}…): not an active organisation and not a configured local user`, 'security');
    return identity;
  }

  async resolveToken(token: string): Promise<Identity> {
    const oidc = this.opts.oidc;
    if (!oidc) throw unauthenticated('Bearer tokens are not accepted by this server');
    const cached = this.cache.get(`token:${token}`);
    if (cached !== undefined) {
      if (cached) return cached;
      throw bearerError('The bearer token does not belong to a configured local user');
    }
    const verified = await oidc.verify(token);
    const identity = await this.cache.getOrLoad(`token:${token}`, async () => {
      const match = this.opts.roleConfig.match({ emails: verified.emails, tokenRoles: verified.tokenRoles, tokenGroups: verified.tokenGroups });
      const practitioner = await this.localUser(match, { email: verified.emails[0], displayName: verified.displayName, expiresAt: verified.expiresAt });
      return { value: practitioner, notAfter: verified.expiresAt };
    });
    if (!identity) throw bearerError('The bearer token does not belong to a configured local user');
    return identity;
  }

  private async lookupCertificate(info: CertificateInfo): Promise<Identity | null> {
    const { pool } = this.opts;
    let organization = await currentByUniqueKey<Organization>(pool, 'Organization', thumbprintKey(info.thumbprint));
    const [endpointWithThumbprint] = await currentContaining<Endpoint>(pool, 'Endpoint', { extension: [{ url: THUMBPRINT_EXTENSION, valueString: info.thumbprint }] });
    const endpoint = endpointWithThumbprint?.status === 'active' ? endpointWithThumbprint : undefined;
    if (!organization && endpoint) organization = await this.byReference<Organization>('Organization', endpoint.managingOrganization?.reference);
    if (organization?.active === true) {
      const identifier = organizationIdentifier(organization);
      const local = identifier === this.opts.localOrganizationIdentifier;
      const orgIdentity: OrganizationIdentity = {
        kind: 'organization',
        local,
        organization,
        organizationIdentifier: identifier ?? '',
        roles: local ? localOrganizationRoles() : remoteOrganizationRoles(),
        displayName: organization.name ?? identifier ?? `Organization/${organization.id}`,
        expiresAt: info.notAfter,
        thumbprint: info.thumbprint,
        endpoint: endpoint ?? (await this.onlyEndpointOf(organization)),
      };
      return orgIdentity;
    }
    return this.certificatePractitioner(info);
  }

  /** A certificate listed in the role configuration by thumbprint or e-mail: a local user. */
  private async certificatePractitioner(info: CertificateInfo): Promise<PractitionerIdentity | null> {
    const emails = info.email ? [info.email] : [];
    const match = this.opts.roleConfig.match({ thumbprint: info.thumbprint, emails });
    const displayName = info.commonName ?? info.email ?? info.thumbprint.slice(0, 16);
    return this.localUser(match, { email: info.email, displayName, expiresAt: info.notAfter, thumbprint: info.thumbprint });
  }

  /** A local user of the local organisation with the roles of its matching rules; null without any dsf-role. */
  private async localUser(match: RoleMatch, who: Pick<PractitionerIdentity, 'email' | 'displayName' | 'expiresAt' | 'thumbprint'>): Promise<PractitionerIdentity | null> {
    if (match.dsfRoles.size === 0) return null;
    const local = await this.localOrganization();
    if (!local) return null;
    return {
      kind: 'practitioner',
      local: true,
      organization: local.organization,
      organizationIdentifier: this.opts.localOrganizationIdentifier,
      roles: match.dsfRoles,
      practitionerRoles: match.practitionerRoles,
      ...who,
    };
  }

  private async localOrganization(): Promise<{ organization: Organization } | undefined> {
    const organization = await organizationByIdentifier(this.opts.pool, this.opts.localOrganizationIdentifier);
    return organization && organization.active !== false ? { organization } : undefined;
  }

  private async onlyEndpointOf(organization: Organization): Promise<Endpoint | undefined> {
    const refs = organization.endpoint ?? [];
    if (refs.length !== 1) return undefined;
    return this.byReference<Endpoint>('Endpoint', refs[0]!.reference);
  }

  private async byReference<T>(type: string, reference: string | undefined): Promise<T | undefined> {
    const m = reference ? new RegExp(`(?:^|/)${type}/([0-9a-f-]{36})(?:/_history/\\d+)?$`).exec(reference) : null;
    if (!m) return undefined;
    return currentById<T>(this.opts.pool, type, m[1]!);
  }
}

/** A connection's identity: valid from `from` until before `until` (ms), while the cache's generation is the same. */
interface ConnectionIdentity {
  identity: Identity;
  generation: number;
  from: number;
  until: number;
}

function unauthenticated(message: string, code: 'login' | 'security' = 'login'): FhirError {
  return new FhirError(401, message, code);
}

function organizationIdentifier(organization: Organization): string | undefined {
  return organization.identifier?.find((i) => i.system === ORGANIZATION_IDENTIFIER_SYSTEM && i.value)?.value;
}

/** IPv4 peers of a dual-stack socket appear as ::ffff:a.b.c.d. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
