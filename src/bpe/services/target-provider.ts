// Targets for message activities (the reference's TargetProvider): members of a parent organisation
// with the endpoint of their affiliation, or every remote organisation with its endpoints; filters
// decide which candidates become targets.
import { randomUUID } from 'node:crypto';
import type { Endpoint, Organization } from '@medplum/fhirtypes';
import {
  createTarget,
  ENDPOINT_IDENTIFIER_SID,
  ORGANIZATION_IDENTIFIER_SID,
  type CodeOrCoding,
  type FhirClient,
  type IdentifierOrValue,
  type TargetCandidate,
  type TargetFilter3,
  type TargetProvider,
  type Targets,
  type TargetsBuilder,
} from '../../plugin-api/index.ts';
import { identifierToken, identifierValue, includes, matches, refersTo, refersToOrIdentifies } from './fhir-lookups.ts';
import type { FhirOrganizationProvider } from './organization-provider.ts';

type Predicate = (c: TargetCandidate) => boolean;

class CandidateTargets implements TargetsBuilder {
  constructor(
    private readonly candidates: () => Promise<TargetCandidate[]>,
    private readonly predicates: readonly Predicate[] = [],
  ) {}

  filter(predicate: Predicate | TargetFilter3 | null | undefined): TargetsBuilder {
    if (!predicate) return this;
    // Three parameters: the reference's (affiliation, member, endpoint); otherwise the candidate.
    const p: Predicate = predicate.length >= 2 ? (c) => (predicate as TargetFilter3)(c.affiliation, c.member, c.endpoint) : (predicate as Predicate);
    return new CandidateTargets(this.candidates, [...this.predicates, p]);
  }

  withCorrelationKey(): Promise<Targets> {
    return this.build(true);
  }

  withoutCorrelationKey(): Promise<Targets> {
    return this.build(false);
  }

  private async build(correlationKeys: boolean): Promise<Targets> {
    const entries = [];
    for (const c of await this.candidates()) {
      if (!this.predicates.every((p) => p(c))) continue;
      const org = identifierValue(c.member.identifier, ORGANIZATION_IDENTIFIER_SID);
      const ep = identifierValue(c.endpoint.identifier, ENDPOINT_IDENTIFIER_SID);
      if (!org || !ep || !c.endpoint.address) continue;
      entries.push(createTarget(org, ep, c.endpoint.address, correlationKeys ? randomUUID() : undefined));
    }
    return { entries };
  }
}

export class FhirTargetProvider implements TargetProvider {
  constructor(
    private readonly local: FhirClient,
    private readonly organizations: FhirOrganizationProvider,
  ) {}

  create(parentIdentifier: IdentifierOrValue, memberRole?: CodeOrCoding | null, memberIdentifiers?: readonly IdentifierOrValue[] | null): TargetsBuilder {
    // As the reference: a parent is required, a role or member list given as null is an error (undefined: not given).
    if (parentIdentifier === null || parentIdentifier === undefined) throw new TypeError('parentOrganizationIdentifier');
    if (memberRole === null) throw new TypeError('memberOrganizationRole');
    if (memberIdentifiers === null) throw new TypeError('memberOrganizationIdentifier');
    const members = memberIdentifiers?.map((m) => identifierToken(m, ORGANIZATION_IDENTIFIER_SID));
    return new CandidateTargets(async () => {
      const { affiliations, members: orgs, endpoints } = await this.organizations.affiliations(parentIdentifier, memberRole ?? undefined);
      const out: TargetCandidate[] = [];
      for (const affiliation of affiliations) {
        const member = orgs.find((m) => refersToOrIdentifies(affiliation.participatingOrganization, m));
        if (!member) continue;
        if (members && !(member.identifier ?? []).some((i) => members.includes(`${i.system}|${i.value}`) || members.includes(i.value))) continue;
        for (const endpoint of endpoints.filter((e) => (affiliation.endpoint ?? []).some((r) => refersTo(r, e)))) out.push({ affiliation, member, endpoint });
      }
      return out;
    });
  }

  createForRemoteOrganizations(): TargetsBuilder {
    return new CandidateTargets(async () => {
      const local = await this.organizations.getLocalOrganizationIdentifierValue();
      const bundle = await this.local.search('Organization', { active: 'true', _include: 'Organization:endpoint', _count: 1000 });
      const endpoints = includes<Endpoint>(bundle, 'Endpoint').filter((e) => e.status === 'active');
      const out: TargetCandidate[] = [];
      for (const member of matches<Organization>(bundle, 'Organization')) {
        if (identifierValue(member.identifier, ORGANIZATION_IDENTIFIER_SID) === local) continue;
        for (const endpoint of endpoints.filter((e) => (member.endpoint ?? []).some((r) => refersTo(r, e)))) out.push({ affiliation: undefined, member, endpoint });
      }
      return out;
    });
  }
}
