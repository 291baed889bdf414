// Process authorization of ActivityDefinitions (the reference's ProcessAuthorizationHelper, Requester,
// Recipient and their All / Organization / Role kinds): building the extension-process-authorization
// entries, reading them back, checking them, and deciding whether an identity may send or receive a
// message. Pure: the same rules the FHIR server applies to Tasks.
import type { ActivityDefinition, Coding, Extension, Identifier, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import { ORGANIZATION_IDENTIFIER_SID } from './constants.ts';

export const PROCESS_AUTHORIZATION_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/process-authorization';
export const ProcessAuthorizationExtensions = {
  PROCESS_AUTHORIZATION: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization',
  MESSAGE_NAME: 'message-name',
  TASK_PROFILE: 'task-profile',
  REQUESTER: 'requester',
  RECIPIENT: 'recipient',
  PRACTITIONER: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-practitioner',
  ORGANIZATION: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-organization',
  ORGANIZATION_PRACTITIONER: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-organization-practitioner',
  ORGANIZATION_PRACTITIONER_ORGANIZATION: 'organization',
  ORGANIZATION_PRACTITIONER_PRACTITIONER_ROLE: 'practitioner-role',
  PARENT_ORGANIZATION_ROLE: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-parent-organization-role',
  PARENT_ORGANIZATION_ROLE_PRACTITIONER: 'http://dsf.dev/fhir/StructureDefinition/extension-process-authorization-parent-organization-role-practitioner',
  PARENT_ORGANIZATION: 'parent-organization',
  ORGANIZATION_ROLE: 'organization-role',
  PRACTITIONER_ROLE: 'practitioner-role',
} as const;
const X = ProcessAuthorizationExtensions;

export const ProcessAuthorizationCodes = {
  LOCAL_ALL: 'LOCAL_ALL',
  LOCAL_ALL_PRACTITIONER: 'LOCAL_ALL_PRACTITIONER',
  REMOTE_ALL: 'REMOTE_ALL',
  LOCAL_ORGANIZATION: 'LOCAL_ORGANIZATION',
  LOCAL_ORGANIZATION_PRACTITIONER: 'LOCAL_ORGANIZATION_PRACTITIONER',
  REMOTE_ORGANIZATION: 'REMOTE_ORGANIZATION',
  LOCAL_ROLE: 'LOCAL_ROLE',
  LOCAL_ROLE_PRACTITIONER: 'LOCAL_ROLE_PRACTITIONER',
  REMOTE_ROLE: 'REMOTE_ROLE',
} as const;
type Code = (typeof ProcessAuthorizationCodes)[keyof typeof ProcessAuthorizationCodes];

/** Who sends or receives: an organisation (its certificate) or, with practitionerRoles, a local user. */
export interface AuthorizationIdentity {
  readonly isLocalIdentity: boolean;
  readonly organization: Organization;
  /** Set for a practitioner (a local user), with the user's practitioner roles. */
  readonly practitionerRoles?: readonly Coding[];
}

export interface WithAuthorization {
  getProcessAuthorizationCode(): Coding;
  matches(processAuthorizationCode: Coding): boolean;
}

export interface Requester extends WithAuthorization {
  requesterMatches(requesterExtension: Extension): boolean;
  isRequesterAuthorized(requester: AuthorizationIdentity | undefined, requesterAffiliations: readonly OrganizationAffiliation[] | undefined): boolean;
  toRequesterExtension(): Extension;
}

export interface Recipient extends WithAuthorization {
  recipientMatches(recipientExtension: Extension): boolean;
  isRecipientAuthorized(recipient: AuthorizationIdentity | undefined, recipientAffiliations: readonly OrganizationAffiliation[] | undefined): boolean;
  toRecipientExtension(): Extension;
}

interface Spec {
  kind: 'ALL' | 'ORGANIZATION' | 'ROLE';
  local: boolean;
  organization?: string;
  parentOrganization?: string;
  organizationRole?: Coding;
  practitionerRole?: Coding;
}

const sameCoding = (a: Coding | undefined, b: Coding | undefined) => !!a && !!b && !!a.system && !!a.code && a.system === b.system && a.code === b.code;
const organizationIdentifier = (value: string): Identifier => ({ system: ORGANIZATION_IDENTIFIER_SID, value });
const isDsfOrganization = (i: Identifier | undefined, value: string) => i?.system === ORGANIZATION_IDENTIFIER_SID && i.value === value;

function notBlank(name: string, value: string | undefined): string {
  if (typeof value !== 'string') throw new TypeError(`${name} missing`);
  if (!value.trim()) throw new RangeError(`${name} blank`);
  return value;
}

/** One kind of requester/recipient; its coding and extensions as the reference writes them. */
class Authorization implements Requester, Recipient {
  constructor(private readonly spec: Spec) {}

  private needsPractitionerRole(): boolean {
    return this.spec.practitionerRole !== undefined;
  }

  private code(): Code {
    const p = this.needsPractitionerRole();
    const prefix = this.spec.local ? 'LOCAL' : 'REMOTE';
    return `${prefix}_${this.spec.kind}${p ? '_PRACTITIONER' : ''}` as Code;
  }

  getProcessAuthorizationCode(): Coding {
    return { system: PROCESS_AUTHORIZATION_SYSTEM, code: this.code() };
  }

  matches(coding: Coding): boolean {
    return coding?.system === PROCESS_AUTHORIZATION_SYSTEM && coding.code === this.code();
  }

  toRequesterExtension(): Extension {
    return { url: X.REQUESTER, valueCoding: this.coding(this.needsPractitionerRole()) };
  }

  toRecipientExtension(): Extension {
    return { url: X.RECIPIENT, valueCoding: this.coding(false) };
  }

  requesterMatches(extension: Extension): boolean {
    return this.extensionMatches(extension, X.REQUESTER, this.needsPractitionerRole());
  }

  recipientMatches(extension: Extension): boolean {
    return this.extensionMatches(extension, X.RECIPIENT, false);
  }

  isRequesterAuthorized(identity: AuthorizationIdentity | undefined, affiliations: readonly OrganizationAffiliation[] | undefined): boolean {
    return this.isAuthorized(identity, affiliations);
  }

  isRecipientAuthorized(identity: AuthorizationIdentity | undefined, affiliations: readonly OrganizationAffiliation[] | undefined): boolean {
    return this.isAuthorized(identity, affiliations);
  }

  private isAuthorized(identity: AuthorizationIdentity | undefined, affiliations: readonly OrganizationAffiliation[] | undefined): boolean {
    if (!identity?.organization || identity.organization.active !== true || identity.isLocalIdentity !== this.spec.local) return false;
    const roleOk = this.needsPractitionerRole()
      ? (identity.practitionerRoles ?? []).some((r) => sameCoding(r, this.spec.practitionerRole))
      : identity.practitionerRoles === undefined;
    if (!roleOk) return false;
    if (this.spec.kind === 'ORGANIZATION') return (identity.organization.identifier ?? []).some((i) => isDsfOrganization(i, this.spec.organization!));
    if (this.spec.kind === 'ROLE') return affiliations !== undefined && this.hasParentOrganizationMemberRole(identity.organization, affiliations);
    return true;
  }

  private hasParentOrganizationMemberRole(member: Organization, affiliations: readonly OrganizationAffiliation[]): boolean {
    return affiliations.some(
      (a) =>
        a.active === true &&
        isDsfOrganization(a.organization?.identifier, this.spec.parentOrganization!) &&
        !!a.participatingOrganization?.identifier?.system &&
        !!a.participatingOrganization.identifier.value &&
        (member.identifier ?? []).some((i) => i.system === a.participatingOrganization!.identifier!.system && i.value === a.participatingOrganization!.identifier!.value) &&
        (a.code ?? []).some((cc) => (cc.coding ?? []).some((c) => sameCoding(c, this.spec.organizationRole))),
    );
  }

  private coding(withPractitionerRole: boolean): Coding {
    const coding: Coding & { extension?: Extension[] } = { system: PROCESS_AUTHORIZATION_SYSTEM, code: this.code() };
    const practitionerRole = this.spec.practitionerRole;
    if (this.spec.kind === 'ALL' && withPractitionerRole) coding.extension = [{ url: X.PRACTITIONER, valueCoding: practitionerRole }];
    if (this.spec.kind === 'ORGANIZATION') {
      const org = organizationIdentifier(this.spec.organization!);
      coding.extension = withPractitionerRole
        ? [{ url: X.ORGANIZATION_PRACTITIONER, extension: [{ url: X.ORGANIZATION_PRACTITIONER_ORGANIZATION, valueIdentifier: org }, { url: X.ORGANIZATION_PRACTITIONER_PRACTITIONER_ROLE, valueCoding: practitionerRole }] }]
        : [{ url: X.ORGANIZATION, valueIdentifier: org }];
    }
    if (this.spec.kind === 'ROLE') {
      const parts: Extension[] = [
        { url: X.PARENT_ORGANIZATION, valueIdentifier: organizationIdentifier(this.spec.parentOrganization!) },
        { url: X.ORGANIZATION_ROLE, valueCoding: this.spec.organizationRole },
      ];
      coding.extension = withPractitionerRole
        ? [{ url: X.PARENT_ORGANIZATION_ROLE_PRACTITIONER, extension: [...parts, { url: X.PRACTITIONER_ROLE, valueCoding: practitionerRole }] }]
        : [{ url: X.PARENT_ORGANIZATION_ROLE, extension: parts }];
    }
    return coding;
  }

  private extensionMatches(extension: Extension | undefined, url: string, withPractitionerRole: boolean): boolean {
    const value = extension?.valueCoding as (Coding & { extension?: Extension[] }) | undefined;
    if (!extension || extension.url !== url || !value || !this.matches(value)) return false;
    const exts = value.extension ?? [];
    const role = this.spec.practitionerRole;
    switch (this.spec.kind) {
      case 'ALL':
        // The codes differ with and without practitioner role, so only the role itself is left to compare.
        return !withPractitionerRole || exts.some((e) => e.url === X.PRACTITIONER && sameCoding(e.valueCoding, role));
      case 'ORGANIZATION':
        return withPractitionerRole
          ? exts.some(
              (e) =>
                e.url === X.ORGANIZATION_PRACTITIONER &&
                (e.extension ?? []).some((x) => x.url === X.ORGANIZATION_PRACTITIONER_ORGANIZATION && isDsfOrganization(x.valueIdentifier, this.spec.organization!)) &&
                (e.extension ?? []).some((x) => x.url === X.ORGANIZATION_PRACTITIONER_PRACTITIONER_ROLE && sameCoding(x.valueCoding, role)),
            )
          : exts.some((e) => e.url === X.ORGANIZATION && isDsfOrganization(e.valueIdentifier, this.spec.organization!));
      case 'ROLE':
        return exts.some(
          (e) =>
            e.url === (withPractitionerRole ? X.PARENT_ORGANIZATION_ROLE_PRACTITIONER : X.PARENT_ORGANIZATION_ROLE) &&
            (e.extension ?? []).some((x) => x.url === X.PARENT_ORGANIZATION && isDsfOrganization(x.valueIdentifier, this.spec.parentOrganization!)) &&
            (e.extension ?? []).some((x) => x.url === X.ORGANIZATION_ROLE && sameCoding(x.valueCoding, this.spec.organizationRole)) &&
            (!withPractitionerRole || (e.extension ?? []).some((x) => x.url === X.PRACTITIONER_ROLE && sameCoding(x.valueCoding, role))),
        );
    }
  }
}

export interface RecipientFactory {
  localAll(): Recipient;
  localOrganization(organizationIdentifier: string): Recipient;
  localRole(parentOrganizationIdentifier: string, roleSystem: string, roleCode: string): Recipient;
}

export interface RequesterFactory {
  localAll(): Requester;
  localAllPractitioner(practitionerRoleSystem: string, practitionerRoleCode: string): Requester;
  remoteAll(): Requester;
  localOrganization(organizationIdentifier: string): Requester;
  localOrganizationPractitioner(organizationIdentifier: string, practitionerRoleSystem: string, practitionerRoleCode: string): Requester;
  remoteOrganization(organizationIdentifier: string): Requester;
  localRole(parentOrganizationIdentifier: string, organizationRoleSystem: string, organizationRoleCode: string): Requester;
  localRolePractitioner(parentOrganizationIdentifier: string, organizationRoleSystem: string, organizationRoleCode: string, practitionerRoleSystem: string, practitionerRoleCode: string): Requester;
  remoteRole(parentOrganizationIdentifier: string, organizationRoleSystem: string, organizationRoleCode: string): Requester;
}

const practitioner = (system: string, code: string): Coding => ({ system: notBlank('practitionerRoleSystem', system), code: notBlank('practitionerRoleCode', code) });
const organization = (local: boolean, id: string, practitionerRole?: Coding) => new Authorization({ kind: 'ORGANIZATION', local, organization: notBlank('organizationIdentifier', id), practitionerRole });
const role = (local: boolean, parent: string, system: string, code: string, practitionerRole?: Coding) =>
  new Authorization({
    kind: 'ROLE',
    local,
    parentOrganization: notBlank('parentOrganizationIdentifier', parent),
    organizationRole: { system: notBlank('organizationRoleSystem', system), code: notBlank('organizationRoleCode', code) },
    practitionerRole,
  });

const RECIPIENTS: RecipientFactory = Object.freeze({
  localAll: () => new Authorization({ kind: 'ALL', local: true }),
  localOrganization: (id: string) => organization(true, id),
  localRole: (parent: string, system: string, code: string) => role(true, parent, system, code),
});

const REQUESTERS: RequesterFactory = Object.freeze({
  localAll: () => new Authorization({ kind: 'ALL', local: true }),
  localAllPractitioner: (system: string, code: string) => new Authorization({ kind: 'ALL', local: true, practitionerRole: practitioner(system, code) }),
  remoteAll: () => new Authorization({ kind: 'ALL', local: false }),
  localOrganization: (id: string) => organization(true, id),
  localOrganizationPractitioner: (id: string, system: string, code: string) => organization(true, id, practitioner(system, code)),
  remoteOrganization: (id: string) => organization(false, id),
  localRole: (parent: string, system: string, code: string) => role(true, parent, system, code),
  localRolePractitioner: (parent: string, system: string, code: string, pSystem: string, pCode: string) => role(true, parent, system, code, practitioner(pSystem, pCode)),
  remoteRole: (parent: string, system: string, code: string) => role(false, parent, system, code),
});

export interface AuthorizationChecks {
  profileExists(canonical: string): boolean;
  practitionerRoleExists(coding: Coding): boolean;
  organizationWithIdentifierExists(identifier: Identifier): boolean;
  organizationRoleExists(coding: Coding): boolean;
}

const ANYTHING: AuthorizationChecks = { profileExists: () => true, practitionerRoleExists: () => true, organizationWithIdentifierExists: () => true, organizationRoleExists: () => true };

/** A Requester or Recipient from a process-authorization coding, if it is a valid one (the reference's fromRequester/fromRecipient). */
function fromCoding(coding: (Coding & { extension?: Extension[] }) | undefined, asRecipient: boolean, checks: AuthorizationChecks): Authorization | undefined {
  if (!coding || coding.system !== PROCESS_AUTHORIZATION_SYSTEM || !coding.code) return undefined;
  const code = coding.code;
  if (asRecipient && !['LOCAL_ALL', 'LOCAL_ORGANIZATION', 'LOCAL_ROLE'].includes(code)) return undefined;
  const exts = coding.extension ?? [];
  const only = (url: string, list: Extension[] = exts) => {
    const found = list.filter((e) => e.url === url);
    return found.length === 1 ? found[0] : undefined;
  };
  const dsfOrg = (i: Identifier | undefined) => (i?.system === ORGANIZATION_IDENTIFIER_SID && i.value && checks.organizationWithIdentifierExists(i) ? i.value : undefined);
  const valid = (c: Coding | undefined) => (c?.system && c.code ? c : undefined);
  const local = code.startsWith('LOCAL_');
  switch (code) {
    case 'LOCAL_ALL':
    case 'REMOTE_ALL':
      return new Authorization({ kind: 'ALL', local });
    case 'LOCAL_ALL_PRACTITIONER': {
      const r = valid(only(X.PRACTITIONER)?.valueCoding);
      return r && checks.practitionerRoleExists(r) ? new Authorization({ kind: 'ALL', local: true, practitionerRole: { system: r.system, code: r.code } }) : undefined;
    }
    case 'LOCAL_ORGANIZATION':
    case 'REMOTE_ORGANIZATION': {
      const id = dsfOrg(only(X.ORGANIZATION)?.valueIdentifier);
      return id ? new Authorization({ kind: 'ORGANIZATION', local, organization: id }) : undefined;
    }
    case 'LOCAL_ORGANIZATION_PRACTITIONER': {
      const e = only(X.ORGANIZATION_PRACTITIONER);
      const id = dsfOrg(only(X.ORGANIZATION_PRACTITIONER_ORGANIZATION, e?.extension)?.valueIdentifier);
      const r = valid(only(X.ORGANIZATION_PRACTITIONER_PRACTITIONER_ROLE, e?.extension)?.valueCoding);
      return id && r && checks.practitionerRoleExists(r) ? new Authorization({ kind: 'ORGANIZATION', local: true, organization: id, practitionerRole: { system: r.system, code: r.code } }) : undefined;
    }
    case 'LOCAL_ROLE':
    case 'REMOTE_ROLE':
    case 'LOCAL_ROLE_PRACTITIONER': {
      const withPractitioner = code === 'LOCAL_ROLE_PRACTITIONER';
      const e = only(withPractitioner ? X.PARENT_ORGANIZATION_ROLE_PRACTITIONER : X.PARENT_ORGANIZATION_ROLE);
      const parent = dsfOrg(only(X.PARENT_ORGANIZATION, e?.extension)?.valueIdentifier);
      const orgRole = valid(only(X.ORGANIZATION_ROLE, e?.extension)?.valueCoding);
      const pRole = withPractitioner ? valid(only(X.PRACTITIONER_ROLE, e?.extension)?.valueCoding) : undefined;
      if (!parent || !orgRole || !checks.organizationRoleExists(orgRole)) return undefined;
      if (withPractitioner && (!pRole || !checks.practitionerRoleExists(pRole))) return undefined;
      return new Authorization({
        kind: 'ROLE',
        local,
        parentOrganization: parent,
        organizationRole: { system: orgRole.system, code: orgRole.code },
        practitionerRole: pRole ? { system: pRole.system, code: pRole.code } : undefined,
      });
    }
    default:
      return undefined;
  }
}

const authorizationsOf = (ad: ActivityDefinition) => (ad.extension ?? []).filter((e) => e.url === X.PROCESS_AUTHORIZATION && (e.extension?.length ?? 0) > 0);
const messageNameOf = (e: Extension) => e.extension?.find((x) => x.url === X.MESSAGE_NAME)?.valueString;
const taskProfilesOf = (e: Extension) => (e.extension ?? []).filter((x) => x.url === X.TASK_PROFILE && typeof x.valueCanonical === 'string').map((x) => x.valueCanonical!);

export class ProcessAuthorizationHelper {
  getRecipientFactory(): RecipientFactory {
    return RECIPIENTS;
  }

  getRequesterFactory(): RequesterFactory {
    return REQUESTERS;
  }

  /**
   * Adds requesters and recipients to the process-authorization extension of this message name and
   * task profile (created when missing); entries already there are not added twice.
   */
  add(activityDefinition: ActivityDefinition, messageName: string, taskProfile: string, requesters: Requester | readonly Requester[], recipients: Recipient | readonly Recipient[]): ActivityDefinition {
    if (!activityDefinition) throw new TypeError('activityDefinition missing');
    notBlank('messageName', messageName);
    notBlank('taskProfile', taskProfile);
    const reqs = Array.isArray(requesters) ? (requesters as readonly Requester[]) : [requesters as Requester];
    const recs = Array.isArray(recipients) ? (recipients as readonly Recipient[]) : [recipients as Recipient];
    if (reqs.length === 0 || reqs.some((r) => !r)) throw new RangeError('requesters empty');
    if (recs.length === 0 || recs.some((r) => !r)) throw new RangeError('recipients empty');
    let extension = authorizationsOf(activityDefinition).find((e) => messageNameOf(e) === messageName && taskProfilesOf(e).includes(taskProfile));
    if (!extension) {
      extension = { url: X.PROCESS_AUTHORIZATION, extension: [{ url: X.MESSAGE_NAME, valueString: messageName }, { url: X.TASK_PROFILE, valueCanonical: taskProfile }] };
      (activityDefinition.extension ??= []).push(extension);
    }
    const entries = (extension.extension ??= []);
    for (const r of reqs) if (!entries.some((e) => r.requesterMatches(e))) entries.push(r.toRequesterExtension());
    for (const r of recs) if (!entries.some((e) => r.recipientMatches(e))) entries.push(r.toRecipientExtension());
    return activityDefinition;
  }

  /**
   * Every process-authorization extension has one message name (unique across them), one existing
   * task profile, and at least one valid requester and recipient.
   */
  isValid(activityDefinition: ActivityDefinition | undefined, checks: Partial<AuthorizationChecks> = {}): boolean {
    if (!activityDefinition) return false;
    const c = { ...ANYTHING, ...checks };
    const all = (activityDefinition.extension ?? []).filter((e) => e.url === X.PROCESS_AUTHORIZATION);
    if (all.length === 0) return false;
    const names = new Set<string>();
    for (const pa of all) {
      const parts = pa.extension ?? [];
      const messageNames = parts.filter((e) => e.url === X.MESSAGE_NAME);
      const profiles = parts.filter((e) => e.url === X.TASK_PROFILE);
      const requesters = parts.filter((e) => e.url === X.REQUESTER);
      const recipients = parts.filter((e) => e.url === X.RECIPIENT);
      if (messageNames.length !== 1 || profiles.length !== 1 || requesters.length === 0 || recipients.length === 0) return false;
      const name = messageNames[0]!.valueString;
      if (typeof name !== 'string' || !name.trim() || names.has(name)) return false;
      names.add(name);
      const profile = profiles[0]!.valueCanonical;
      if (typeof profile !== 'string' || !c.profileExists(profile)) return false;
      if (!requesters.every((r) => fromCoding(r.valueCoding, false, c))) return false;
      if (!recipients.every((r) => fromCoding(r.valueCoding, true, c))) return false;
    }
    return true;
  }

  /** Requesters of a message (by url|version of the process, message name, and a task profile with or without version). */
  getRequesters(activityDefinition: ActivityDefinition | undefined, processUrl: string, processVersion: string, messageName: string, taskProfiles: string | readonly string[]): Requester[] {
    const e = this.authorizationExtension(activityDefinition, processUrl, processVersion, messageName, taskProfiles);
    return (e?.extension ?? []).filter((x) => x.url === X.REQUESTER).flatMap((x) => fromCoding(x.valueCoding, false, ANYTHING) ?? []);
  }

  getRecipients(activityDefinition: ActivityDefinition | undefined, processUrl: string, processVersion: string, messageName: string, taskProfiles: string | readonly string[]): Recipient[] {
    const e = this.authorizationExtension(activityDefinition, processUrl, processVersion, messageName, taskProfiles);
    return (e?.extension ?? []).filter((x) => x.url === X.RECIPIENT).flatMap((x) => fromCoding(x.valueCoding, true, ANYTHING) ?? []);
  }

  private authorizationExtension(ad: ActivityDefinition | undefined, processUrl: string, processVersion: string, messageName: string, taskProfiles: string | readonly string[]): Extension | undefined {
    if (!ad || !processUrl?.trim() || !processVersion?.trim() || !messageName?.trim()) return undefined;
    if (ad.url !== processUrl || ad.version !== processVersion) return undefined;
    const wanted = typeof taskProfiles === 'string' ? [taskProfiles] : taskProfiles;
    // A profile without version matches the ActivityDefinition's versioned one (the caller does not care about the version).
    return authorizationsOf(ad).find((e) => messageNameOf(e) === messageName && taskProfilesOf(e).some((p) => wanted.includes(p) || wanted.includes(p.split('|')[0]!)));
  }
}
