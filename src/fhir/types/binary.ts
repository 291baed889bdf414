// Binary: content of any media type, stored outside the resource row (store/binary-store.ts) and read
// and written raw as well as base64 in `data`. Its read access comes from its read-access tags or from
// the resource its securityContext references (that resource's own read rule), never from both; a
// Binary or Task cannot be a security context. Written by local identities only.
import type { Binary } from '@medplum/fhirtypes';
import type { Db } from '../../db/pool.ts';
import { anyOf, securityContext, type AccessCondition } from '../store/access-condition.ts';
import { currentExists, idsByIdentifier, versionExists } from '../store/resource-lookups.ts';
import { parseReference } from '../search/reference.ts';
import type { ContentStorage, ReadAccessContext, ResourceTypeBehaviour, WriteRuleContext } from './behaviour.ts';
import { readAccessTagProblem, readAccessTagsOf, storeExistenceChecks } from './read-access-tags.ts';
import { refusal } from './refusal.ts';
import { dsfDefaultProfile, requireLocalWriter } from './tagged-type.ts';

interface Target {
  type: string;
  id: string;
  version?: number;
}

/** The local resource a Binary.securityContext points to, if it is a literal reference to this server. */
export function literalSecurityContext(binary: Binary, baseUrl: string): Target | undefined {
  const ref = binary.securityContext?.reference;
  if (typeof ref !== 'string') return undefined;
  const parsed = parseReference(ref, baseUrl);
  if (!parsed?.local) return undefined;
  const version = /\/_history\/(\d+)$/.exec(ref)?.[1];
  return { type: parsed.type, id: parsed.id, version: version ? Number(version) : undefined };
}

/**
 * A securityContext given by type and identifier (a logical reference), as the reference accepts it:
 * the one current resource of that type with the identifier. The reference checks then store its
 * literal reference beside the identifier, which read access uses.
 */
async function logicalSecurityContext(db: Db, binary: Binary): Promise<Target | undefined> {
  const sc = binary.securityContext;
  if (!sc || sc.reference !== undefined || typeof sc.type !== 'string' || !sc.identifier) return undefined;
  const { system, value } = sc.identifier;
  if (typeof system !== 'string' || typeof value !== 'string') return undefined;
  const ids = await idsByIdentifier(db, sc.type, system, value);
  return ids.length === 1 ? { type: sc.type, id: ids[0]! } : undefined;
}

/** Why the Binary's securityContext does not give it read access, or undefined when it does. */
export async function securityContextProblem(ctx: WriteRuleContext, binary: Binary): Promise<string | undefined> {
  const target = literalSecurityContext(binary, ctx.site.baseUrl) ?? (await logicalSecurityContext(ctx.db, binary));
  if (!target) return 'Binary.securityContext is neither a literal reference to a resource of this server nor an identifier of exactly one';
  if (!ctx.canBeSecurityContext(target.type)) return `a ${target.type} cannot be a Binary's security context`;
  const exists = target.version ? await versionExists(ctx.db, target.type, target.id, target.version) : await currentExists(ctx.db, target.type, target.id);
  if (!exists) return `Binary.securityContext ${target.type}/${target.id} does not exist`;
  return undefined;
}

/** Either valid read-access tags or a valid securityContext, not both. */
async function authorizeWrite(ctx: WriteRuleContext, binary: Binary, verb: 'create' | 'update'): Promise<void> {
  const rule = `Binary ${verb}`;
  requireLocalWriter(ctx, 'Binary', verb);
  const tagProblem = await readAccessTagProblem(binary, storeExistenceChecks(ctx.db));
  const hasContext = binary.securityContext !== undefined;
  const contextProblem = hasContext ? await securityContextProblem(ctx, binary) : 'no securityContext';
  const tagged = readAccessTagsOf(binary).length > 0;
  if (!tagProblem && !contextProblem) throw refusal(rule, 'a Binary has either a valid read-access tag or a valid securityContext, not both');
  if (tagProblem && contextProblem) throw refusal(rule, (tagged || !hasContext ? tagProblem : contextProblem)!);
}

function readAccess(ctx: ReadAccessContext): AccessCondition {
  return anyOf(ctx.tags, securityContext(ctx.securityContextTargets()));
}

const content: ContentStorage<Binary> = {
  element: 'data',
  contentType: (b) => b.contentType,
  rawResource: ({ contentType, securityContext: reference, id }) => ({ resourceType: 'Binary', ...(id ? { id } : {}), contentType, securityContext: { reference } }),
};

export const binary: ResourceTypeBehaviour<Binary> = {
  type: 'Binary',
  readAccess,
  securityContextTarget: false,
  authorizeCreate: (ctx, b) => authorizeWrite(ctx, b, 'create'),
  authorizeUpdate: (ctx, _previous, next) => authorizeWrite(ctx, next, 'update'),
  async authorizeDelete(ctx) {
    requireLocalWriter(ctx, 'Binary', 'delete');
  },
  defaultProfile: dsfDefaultProfile('Binary'),
  validatesUpdate: () => true,
  uniqueKeys: () => [],
  identityCriteria: () => undefined,
  content,
  affectsIdentities: false,
};
