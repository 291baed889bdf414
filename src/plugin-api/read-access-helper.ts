// Read-access tags on resources a process writes (pure; no I/O). Tags: ALL, or LOCAL plus
// ORGANIZATION (by identifier) and ROLE (parent organisation + organization-role) entries.
import type { Coding, Meta, Resource } from '@medplum/fhirtypes';
import {
  ORGANIZATION_IDENTIFIER_SID,
  ORGANIZATION_ROLE_SYSTEM,
  READ_ACCESS_ORGANIZATION_EXTENSION,
  READ_ACCESS_ROLE_EXTENSION,
  READ_ACCESS_TAG_SYSTEM,
} from './constants.ts';

const tags = (r: Resource): Coding[] => (r.meta?.tag ?? []).filter((t) => t.system === READ_ACCESS_TAG_SYSTEM);

function addTag<R extends Resource>(resource: R, tag: Coding): R {
  const meta: Meta = (resource.meta ??= {});
  const list = (meta.tag ??= []);
  if (!list.some((t) => JSON.stringify(t) === JSON.stringify(tag))) list.push(tag);
  return resource;
}

export class ReadAccessHelper {
  addAll<R extends Resource>(resource: R): R {
    if (resource.meta?.tag) resource.meta.tag = resource.meta.tag.filter((t) => t.system !== READ_ACCESS_TAG_SYSTEM);
    return addTag(resource, { system: READ_ACCESS_TAG_SYSTEM, code: 'ALL' });
  }

  addLocal<R extends Resource>(resource: R): R {
    return addTag(this.withoutAll(resource), { system: READ_ACCESS_TAG_SYSTEM, code: 'LOCAL' });
  }

  addOrganization<R extends Resource>(resource: R, organizationIdentifierValue: string): R {
    this.addLocal(resource);
    return addTag(resource, {
      system: READ_ACCESS_TAG_SYSTEM,
      code: 'ORGANIZATION',
      extension: [{ url: READ_ACCESS_ORGANIZATION_EXTENSION, valueIdentifier: { system: ORGANIZATION_IDENTIFIER_SID, value: organizationIdentifierValue } }],
    });
  }

  addRole<R extends Resource>(resource: R, parentOrganizationIdentifierValue: string, roleCode: string, roleSystem = ORGANIZATION_ROLE_SYSTEM): R {
    this.addLocal(resource);
    return addTag(resource, {
      system: READ_ACCESS_TAG_SYSTEM,
      code: 'ROLE',
      extension: [
        {
          url: READ_ACCESS_ROLE_EXTENSION,
          extension: [
            { url: 'parent-organization', valueIdentifier: { system: ORGANIZATION_IDENTIFIER_SID, value: parentOrganizationIdentifierValue } },
            { url: 'organization-role', valueCoding: { system: roleSystem, code: roleCode } },
          ],
        },
      ],
    });
  }

  hasAll(resource: Resource): boolean {
    return tags(resource).some((t) => t.code === 'ALL');
  }
  hasLocal(resource: Resource): boolean {
    return tags(resource).some((t) => t.code === 'LOCAL');
  }
  hasOrganization(resource: Resource, organizationIdentifierValue: string): boolean {
    return tags(resource).some(
      (t) => t.code === 'ORGANIZATION' && t.extension?.some((e) => e.url === READ_ACCESS_ORGANIZATION_EXTENSION && e.valueIdentifier?.value === organizationIdentifierValue),
    );
  }
  hasAnyOrganization(resource: Resource): boolean {
    return tags(resource).some((t) => t.code === 'ORGANIZATION');
  }
  hasAnyRole(resource: Resource): boolean {
    return tags(resource).some((t) => t.code === 'ROLE');
  }

  /** ALL alone, or LOCAL with any ORGANIZATION/ROLE entries (the rule the FHIR server enforces). */
  isValid(resource: Resource): boolean {
    const t = tags(resource);
    if (t.some((x) => x.code === 'ALL')) return t.length === 1;
    return t.some((x) => x.code === 'LOCAL') && t.every((x) => ['LOCAL', 'ORGANIZATION', 'ROLE'].includes(x.code ?? ''));
  }

  private withoutAll<R extends Resource>(resource: R): R {
    if (resource.meta?.tag) resource.meta.tag = resource.meta.tag.filter((t) => !(t.system === READ_ACCESS_TAG_SYSTEM && t.code === 'ALL'));
    return resource;
  }
}
