// Who is calling: the identity every request, bundle entry and websocket works under.
// Identities are resolved from a client certificate's thumbprint (organisations, local users) or
// an OIDC bearer token (local users); see auth/identity-provider.ts. This file is only the contract,
// which the type modules' rules read.
import type { Coding, Endpoint, Organization } from '@medplum/fhirtypes';

/** The reference's dsf-roles. */
export const DSF_ROLES = ['CREATE', 'READ', 'UPDATE', 'DELETE', 'SEARCH', 'HISTORY', 'PERMANENT_DELETE', 'WEBSOCKET'] as const;
export type DsfRole = (typeof DSF_ROLES)[number];

/** A role granted on every resource type, or only on the listed ones. */
export type RoleGrant = 'all' | ReadonlySet<string>;

export const PRACTITIONER_ROLE_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/practitioner-role';
export const PRACTITIONER_IDENTIFIER_SYSTEM = 'http://dsf.dev/sid/practitioner-identifier';
export const ORGANIZATION_IDENTIFIER_SYSTEM = 'http://dsf.dev/sid/organization-identifier';

interface IdentityBase {
  /** Local: the local organisation or one of its users. */
  local: boolean;
  /** The organisation acting (for a practitioner: the local organisation). */
  organization: Organization;
  /** Its identifier value (system http://dsf.dev/sid/organization-identifier). */
  organizationIdentifier: string;
  roles: ReadonlyMap<DsfRole, RoleGrant>;
  /** For log lines and OperationOutcomes. */
  displayName: string;
  /** Certificate or token expiry; a websocket is closed when it passes. */
  expiresAt?: Date;
  /** SHA-512 thumbprint of the client certificate, when authenticated by one. */
  thumbprint?: string;
}

export interface OrganizationIdentity extends IdentityBase {
  kind: 'organization';
  /** The Endpoint with the certificate's thumbprint, or else the organisation's only endpoint. */
  endpoint?: Endpoint;
}

export interface PractitionerIdentity extends IdentityBase {
  kind: 'practitioner';
  local: true;
  /** e-mail: the practitioner identifier value (system http://dsf.dev/sid/practitioner-identifier). */
  email?: string;
  /** Practitioner roles from the role configuration, e.g. {system: PRACTITIONER_ROLE_SYSTEM, code: 'DSF_ADMIN'}. */
  practitionerRoles: readonly Coding[];
}

export type Identity = OrganizationIdentity | PractitionerIdentity;

export function hasRole(identity: Identity, role: DsfRole, resourceType?: string): boolean {
  const grant = identity.roles.get(role);
  if (!grant) return false;
  if (grant === 'all') return true;
  return resourceType !== undefined && grant.has(resourceType);
}

export function hasPractitionerRole(identity: Identity, system: string, code: string): boolean {
  return identity.kind === 'practitioner' && identity.practitionerRoles.some((c) => c.system === system && c.code === code);
}

export function isDsfAdmin(identity: Identity): boolean {
  return hasPractitionerRole(identity, PRACTITIONER_ROLE_SYSTEM, 'DSF_ADMIN');
}

/** The reference's roles of the local organisation: everything on every type. */
export function localOrganizationRoles(): Map<DsfRole, RoleGrant> {
  return new Map(DSF_ROLES.map((r) => [r, 'all' as RoleGrant]));
}

/** The reference's roles of a remote organisation: create Task, read/search/history everything. */
export function remoteOrganizationRoles(): Map<DsfRole, RoleGrant> {
  return new Map<DsfRole, RoleGrant>([
    ['CREATE', new Set(['Task'])],
    ['READ', 'all'],
    ['SEARCH', 'all'],
    ['HISTORY', 'all'],
  ]);
}

/** The local organisation itself or a DSF_ADMIN practitioner: who may manage Tasks and user tasks. */
export function isLocalOrganizationOrAdmin(identity: Identity): boolean {
  return (identity.local && identity.kind === 'organization') || isDsfAdmin(identity);
}
