// Reference checks on write, as the reference server does them (ReferenceResolverImpl,
// ReferencesHelperImpl, AbstractResourceServiceImpl): before a resource is stored its logical
// references (by identifier, where a NamingSystem marks the identifier system resolvable) are resolved
// to the one matching resource, whose literal reference is stored beside the identifier; then every
// reference the extractor lists must point at something that exists. Every refusal is a 403.
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { isServedResourceType } from '../model/resource-types.ts';
import type { Db } from '../../db/pool.ts';
import { extractReferences } from './reference-extractor.ts';
import { storeReferenceLookups, type ReferenceLookups } from './reference-lookups.ts';
import type { RemoteExistence } from './remote-reference-client.ts';
import { allowsType, literalParts, referenceKind, referenceValue, type ReferenceKind, type ResourceReference } from './resource-reference.ts';

type Obj = Record<string, any>;

/** The only canonicals the reference checks, and the type each must resolve to. */
const CHECKED_CANONICALS: Readonly<Record<string, string>> = {
  'QuestionnaireResponse.questionnaire': 'Questionnaire',
  'Task.instantiatesCanonical': 'ActivityDefinition',
};

/** Resolved whatever its identifier system: the Binary's read access depends on the resource it names. */
const ALWAYS_RESOLVED = 'Binary.securityContext';

/** References an update does not check again (the reference's exceptions): all of them, or the external ones at these locations. */
export type UncheckedReferences = 'all' | { externalAt: readonly string[] };

export interface ReferenceCheckOptions {
  baseUrl: string;
  remote: RemoteExistence;
  /** What an update of this resource does not check (per type, types/registry.ts). */
  uncheckedOnUpdate?: (resource: Resource) => UncheckedReferences | undefined;
  /** Reports why a remote check failed (the client only learns that it could not be resolved). */
  log?: (message: string) => void;
}

export class ReferenceChecks {
  constructor(private readonly options: ReferenceCheckOptions) {}

  /**
   * Makes relative RelatedArtifact/Attachment urls to this server absolute and resolves logical
   * references, writing the literal reference beside the identifier. Works on a copy when anything
   * may change (the caller's objects stay as they were); returns the resource to store and the
   * references it resolved (they need no second check). When nothing may change, also the references
   * found in it, for check() (one walk of the resource instead of two).
   */
  async resolve(db: Db, original: Resource): Promise<{ resource: Resource; resolved: Set<object>; references?: ResourceReference[] }> {
    const resolved = new Set<object>();
    const mayChange = (ref: ResourceReference, kind: ReferenceKind) => kind === 'logical' || (kind === 'literal-internal' && (ref.element === 'related-artifact' || ref.element === 'attachment'));
    const references = extractReferences(original);
    if (!references.some((ref) => mayChange(ref, referenceKind(ref, this.options.baseUrl)))) return { resource: original, resolved, references };
    const resource = structuredClone(original);
    const lookups = storeReferenceLookups(db);
    const resolvable = new Map<string, Promise<boolean>>();
    for (const ref of extractReferences(resource)) {
      const kind = referenceKind(ref, this.options.baseUrl);
      if (ref.element !== 'reference' && ref.element !== 'canonical' && kind === 'literal-internal') {
        const parts = literalParts(referenceValue(ref)!)!;
        if (!parts.base) ref.holder.url = `${this.options.baseUrl}/${referenceValue(ref)}`;
        continue;
      }
      if (kind !== 'logical') continue;
      const system = ref.holder.identifier.system as string;
      if (ref.location !== ALWAYS_RESOLVED) {
        if (!resolvable.has(system)) resolvable.set(system, lookups.identifierSystemIsResolvable(system));
        if (!(await resolvable.get(system))) continue;
      }
      await this.resolveLogical(lookups, resource, ref);
      resolved.add(ref.holder);
    }
    return { resource, resolved };
  }

  private async resolveLogical(lookups: ReferenceLookups, resource: Resource, ref: ResourceReference): Promise<void> {
    const type = ref.holder.type as string;
    const { system, value } = ref.holder.identifier as { system: string; value: string };
    const ids = isServedResourceType(type) && allowsType(ref, type) ? await lookups.byIdentifier(type, system, value) : [];
    if (ids.length === 1) {
      ref.holder.reference = `${type}/${ids[0]}`;
      return;
    }
    const what = `reference target by identifier '${system}|${value}' of reference at ${ref.location} in ${describe(resource)}`;
    throw refusal(ref, ids.length ? `Found more than one match for ${what}` : `${capitalize(what)} not found`);
  }

  /**
   * Checks the references of a resource about to be (or just) stored; `update` applies the
   * exceptions of its type for updates. `resolved`: references resolve() has just found;
   * `references`: those resolve() found in this very resource, unchanged since (else they are looked for).
   */
  async check(db: Db, resource: Resource, update: boolean, resolved: Set<object> = new Set(), references?: readonly ResourceReference[]): Promise<void> {
    const lookups = storeReferenceLookups(db);
    const unchecked = update ? this.options.uncheckedOnUpdate?.(resource) : undefined;
    if (unchecked === 'all') return;
    for (const ref of references ?? extractReferences(resource)) {
      if (resolved.has(ref.holder)) continue;
      const kind = referenceKind(ref, this.options.baseUrl);
      if (unchecked && kind === 'literal-external' && unchecked.externalAt.includes(ref.location)) continue;
      const problem = await this.problem(lookups, resource, ref, kind);
      if (problem) throw refusal(ref, problem);
    }
  }

  /** Why the reference is refused, or undefined when it is fine or not checked (as the reference decides). */
  private async problem(lookups: ReferenceLookups, resource: Resource, ref: ResourceReference, kind: ReferenceKind): Promise<string | undefined> {
    const value = referenceValue(ref);
    const at = `of reference at ${ref.location} in ${describe(resource)}`;
    switch (kind) {
      case 'literal-internal': {
        const target = literalParts(value!)!;
        if (!isServedResourceType(target.type)) return `Reference target type of reference at ${ref.location} in ${describe(resource)} not supported by this implementation`;
        if (!allowsType(ref, target.type)) return `Reference target type ${target.type} of reference at ${ref.location} in ${describe(resource)} not supported`;
        return (await lookups.exists(target.type, target.id, target.version)) ? undefined : `Reference target ${value} ${at} not found`;
      }
      case 'literal-external': {
        const target = literalParts(value!)! as ReturnType<typeof literalParts> & { base: string };
        // References to servers no Endpoint names are not checked (the reference does the same).
        if (!(await lookups.activeEndpointWithAddress(target.base))) return undefined;
        try {
          return (await this.options.remote.exists(target)) ? undefined : `Reference target ${value} ${at} not found on server ${target.base}`;
        } catch (e) {
          this.options.log?.(`Literal external reference ${value} could not be resolved on ${target.base}: ${(e as Error).message}`);
          return `Reference target ${value} ${at} could not be resolved on server ${target.base} (reason hidden)`;
        }
      }
      case 'logical':
        // Still logical: its identifier system is not one a NamingSystem marks resolvable; not checked.
        return undefined;
      case 'canonical': {
        const type = CHECKED_CANONICALS[ref.location];
        if (!type) return undefined;
        const bar = value!.indexOf('|');
        const [url, version] = bar < 0 ? [value!, undefined] : [value!.slice(0, bar), value!.slice(bar + 1)];
        return (await lookups.canonicalMatches(type, url, version)) === 1 ? undefined : `Reference target ${value} ${at} not found`;
      }
      case 'unknown':
        // A RelatedArtifact or Attachment may point at anything that is not a FHIR server.
        if (ref.element === 'related-artifact' || ref.element === 'attachment') return undefined;
        return `Unknown reference at ${ref.location} in ${describe(resource)}`;
      default:
        // temporary (no transaction entry defined it) or conditional outside a bundle
        return `Unknown reference at ${ref.location} in ${describe(resource)}`;
    }
  }
}

function describe(resource: Resource): string {
  return `resource of type ${resource.resourceType}${resource.id ? ` with id ${resource.id}` : ''}`;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function refusal(ref: ResourceReference, message: string): FhirError {
  const issue: OperationOutcomeIssue = { severity: 'error', code: 'processing', diagnostics: message, expression: [ref.location] };
  return new FhirError(403, [issue]);
}
