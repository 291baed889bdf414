// Targets for message activities (the reference's TargetProvider): members of a parent organisation
// with the endpoint of their affiliation, or every remote organisation with its endpoints.
import { randomUUID } from 'node:crypto';
import type { Endpoint, Organization } from '@medplum/fhirtypes';
import {
  createTarget,
  ENDPOINT_IDENTIFIER_SID,
  ORGANIZATION_IDENTIFIER_SID,
  type FhirClient,
  type TargetCandidate,
  type TargetProvider,
  type Targets,
  type TargetsBuilder,
} from '../../plugin-api/index.ts';
import { identifierValue, includes, matches, refersTo } from './fhir-lookups.ts';
import type { FhirOrganizationProvider } from './organization-provider.ts';

class CandidateTargets implements TargetsBuilder {
  constructor(
    private readonly candidates: () => Promise<TargetCandidate[]>,
    private readonly predicates: ReadonlyArray<(c: TargetCandidate) => boolean> = [],
  ) {}

  filter(predicate: (candidate: TargetCandidate) => boolean): TargetsBuilder {
    return new CandidateTargets(this.candidates, [...this.predicates, predicate]);
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

  create(parentIdentifierValue: string, memberRoleCode?: string, memberIdentifierValues?: readonly string[]): TargetsBuilder {
    return new CandidateTargets(async () => {
      const { affiliations, members, endpoints } = await this.organizations.affiliations(parentIdentifierValue, memberRoleCode);
      const out: TargetCandidate[] = [];
      for (const affiliation of affiliations) {
        const member = members.find((m) => refersTo(affiliation.participatingOrganization, m));
        if (!member) continue;
        if (memberIdentifierValues && !memberIdentifierValues.includes(identifierValue(member.identifier, ORGANIZATION_IDENTIFIER_SID) ?? '')) continue;
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
