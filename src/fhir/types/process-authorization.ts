// The process-authorization extension of an ActivityDefinition: which requesters may send which
// message (Task profile) of a process, and which recipients may receive it. Codings of the
// CodeSystem http://dsf.dev/fhir/CodeSystem/process-authorization: LOCAL_ALL, LOCAL_ALL_PRACTITIONER,
// REMOTE_ALL, LOCAL_ORGANIZATION, LOCAL_ORGANIZATION_PRACTITIONER, REMOTE_ORGANIZATION, LOCAL_ROLE,
// LOCAL_ROLE_PRACTITIONER, REMOTE_ROLE.
import type { ActivityDefinition, Coding, Extension, Identifier } from '@medplum/fhirtypes';
import type { Db } from '../../db/pool.ts';
import { currentByCanonical } from '../store/resource-lookups.ts';
import { isDsfAdmin, type Identity } from './identity.ts';
import { memberships, type Membership } from '../store/affiliations.ts';
import {
  ENDPOINT_IDENTIFIER,
  EXT_PA_ORGANIZATION,
  EXT_PA_ORGANIZATION_PRACTITIONER,
  EXT_PA_PARENT_ORGANIZATION_ROLE,
  EXT_PA_PARENT_ORGANIZATION_ROLE_PRACTITIONER,
  EXT_PA_PRACTITIONER,
  EXT_PROCESS_AUTHORIZATION,
  ORGANIZATION_IDENTIFIER,
  PROCESS_AUTHORIZATION,
} from '../model/dsf-urls.ts';

/** http(s)://<domain>/bpe/Process/<name>|<major.minor> */
export const INSTANTIATES_CANONICAL = /^(https?:\/\/(?:(?:[a-zA-Z0-9][a-zA-Z0-9-]{0,61}[a-zA-Z0-9])\.)+[a-zA-Z0-9]{1,63}\/bpe\/Process\/[a-zA-Z0-9-]+)\|(\d+\.\d+)$/;

/** Recipients can only be local: REMOTE_* and *_PRACTITIONER codings never authorise a recipient. */
const RECIPIENT_CODES = new Set(['LOCAL_ALL', 'LOCAL_ORGANIZATION', 'LOCAL_ROLE']);

export interface ProcessAuthorization {
  requesters: Coding[];
  recipients: Coding[];
}

/** The current ActivityDefinition with url and version, status draft or active. */
export async function findActivityDefinition(db: Db, processUrl: string, processVersion: string): Promise<ActivityDefinition | undefined> {
  const found = await currentByCanonical<ActivityDefinition>(db, 'ActivityDefinition', processUrl, processVersion);
  return found.find((ad) => ad.status === 'draft' || ad.status === 'active');
}

/**
 * Does a Task profile match the task-profile of a process-authorization? Equal canonicals match, and
 * so does a Task profile without a version when the authorization names one (`…/task-ping` matches
 * `…/task-ping|1.0`: the client does not care about the version); a different version does not.
 */
export function taskProfileMatches(authorizedProfile: string, taskProfile: string): boolean {
  return taskProfile === authorizedProfile || (!taskProfile.includes('|') && taskProfile === authorizedProfile.split('|')[0]);
}

/**
 * The process-authorization of the ActivityDefinition for this message name and one of the Task's
 * profiles: the first matching extension, as the reference takes it (empty when none matches).
 */
export function processAuthorizationsFor(activityDefinition: ActivityDefinition, messageName: string, taskProfiles: string[]): ProcessAuthorization[] {
  for (const ext of activityDefinition.extension ?? []) {
    if (ext.url !== EXT_PROCESS_AUTHORIZATION) continue;
    const subs = ext.extension ?? [];
    const names = subs.filter((s) => s.url === 'message-name').map((s) => s.valueString);
    const profiles = subs.filter((s) => s.url === 'task-profile' && typeof s.valueCanonical === 'string').map((s) => s.valueCanonical!);
    if (!names.includes(messageName) || !profiles.some((p) => taskProfiles.some((t) => taskProfileMatches(p, t)))) continue;
    const codings = (url: string) => subs.filter((s) => s.url === url && s.valueCoding).map((s) => s.valueCoding!);
    return [{ requesters: codings('requester'), recipients: codings('recipient') }];
  }
  return [];
}

const sub = (ext: { extension?: Extension[] } | undefined, url: string): Extension | undefined => (ext?.extension ?? []).find((e) => e.url === url);

function organizationIdentifierIs(identifier: Identifier | undefined, value: string): boolean {
  return identifier?.system === ORGANIZATION_IDENTIFIER && identifier?.value === value;
}

/** Lazily loaded memberships of the identity's organisation (needed only for ROLE codings). */
export type MembershipSource = () => Promise<Membership[]>;

export function membershipSource(db: Db, identity: Identity): MembershipSource {
  let cached: Promise<Membership[]> | undefined;
  return () => {
    if (!identity.organization.id) return Promise.resolve([]);
    const ep = identity.kind === 'organization' ? identity.endpoint : undefined;
    cached ??= memberships(db, {
      organizationId: identity.organization.id,
      organizationIdentifier: identity.organizationIdentifier,
      endpoint: ep
        ? { id: ep.id, identifiers: (ep.identifier ?? []).filter((i) => i.system === ENDPOINT_IDENTIFIER && i.value).map((i) => i.value!) }
        : undefined,
    });
    return cached;
  };
}

/** Does this requester or recipient coding authorise the identity? */
export async function codingAuthorizes(coding: Coding, identity: Identity, member: MembershipSource, asRecipient: boolean): Promise<boolean> {
  if (coding.system !== PROCESS_AUTHORIZATION || !coding.code) return false;
  if (asRecipient && !RECIPIENT_CODES.has(coding.code)) return false;
  if (identity.organization.active !== true) return false;
  const admin = isDsfAdmin(identity);
  const isOrganization = identity.kind === 'organization';
  const hasPractitionerRole = (role: Coding | undefined) =>
    identity.kind === 'practitioner' && !!role && identity.practitionerRoles.some((r) => r.system === role.system && r.code === role.code);
  const organizationOrAdmin = isOrganization || admin;
  const isMember = async (parentIdentifier: Identifier | undefined, role: Coding | undefined) => {
    if (!role) return false;
    const list = await member();
    return list.some((m) => organizationIdentifierIs(parentIdentifier, m.parentOrganizationIdentifier) && m.roleSystem === role.system && m.roleCode === role.code);
  };
  const c = coding;
  switch (coding.code) {
    case 'LOCAL_ALL':
      return identity.local && organizationOrAdmin;
    case 'REMOTE_ALL':
      return !identity.local && isOrganization;
    case 'LOCAL_ALL_PRACTITIONER':
      return identity.local && (hasPractitionerRole(sub(c, EXT_PA_PRACTITIONER)?.valueCoding) || admin);
    case 'LOCAL_ORGANIZATION':
    case 'REMOTE_ORGANIZATION': {
      const local = coding.code === 'LOCAL_ORGANIZATION';
      const named = organizationIdentifierIs(sub(c, EXT_PA_ORGANIZATION)?.valueIdentifier, identity.organizationIdentifier);
      return identity.local === local && named && (local ? organizationOrAdmin : isOrganization);
    }
    case 'LOCAL_ORGANIZATION_PRACTITIONER': {
      const ext = sub(c, EXT_PA_ORGANIZATION_PRACTITIONER);
      const named = organizationIdentifierIs(sub(ext, 'organization')?.valueIdentifier, identity.organizationIdentifier);
      return identity.local && named && (hasPractitionerRole(sub(ext, 'practitioner-role')?.valueCoding) || admin);
    }
    case 'LOCAL_ROLE':
    case 'REMOTE_ROLE': {
      const local = coding.code === 'LOCAL_ROLE';
      const ext = sub(c, EXT_PA_PARENT_ORGANIZATION_ROLE);
      if (identity.local !== local || !(local ? organizationOrAdmin : isOrganization)) return false;
      return isMember(sub(ext, 'parent-organization')?.valueIdentifier, sub(ext, 'organization-role')?.valueCoding);
    }
    case 'LOCAL_ROLE_PRACTITIONER': {
      const ext = sub(c, EXT_PA_PARENT_ORGANIZATION_ROLE_PRACTITIONER);
      if (!identity.local || !(hasPractitionerRole(sub(ext, 'practitioner-role')?.valueCoding) || admin)) return false;
      return isMember(sub(ext, 'parent-organization')?.valueIdentifier, sub(ext, 'organization-role')?.valueCoding);
    }
    default:
      return false;
  }
}

export async function anyCodingAuthorizes(codings: Coding[], identity: Identity, member: MembershipSource, asRecipient: boolean): Promise<boolean> {
  for (const c of codings) if (await codingAuthorizes(c, identity, member, asRecipient)) return true;
  return false;
}

