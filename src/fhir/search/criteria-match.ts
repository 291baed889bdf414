// Whether one resource version matches a search, in memory and with the semantics of the SQL search:
// the resource's index rows are computed as the store writes them, and each filter is evaluated on them
// by its type module's `matches`, the twin of the `sql` the store runs. Subscription matching uses it
// on the version that was committed (events/subscription-manager.ts).
import type { Resource } from '@medplum/fhirtypes';
import { computeIndexRows } from './index-rows.ts';
import type { IndexRow } from './index-row.ts';
import { paramTypeModule } from './param-types/index.ts';
import { dateHolds } from './param-types/date.ts';
import { tokenMatches } from './param-types/token.ts';
import type { Filter, SearchRequest } from './search-request.ts';

/** The index rows of one resource grouped by parameter, computed once per event. */
export class IndexedResource {
  private byParam: Map<string, IndexRow[]> | undefined;
  /**
   * Identifier rows of the resources this one's literal references point to, by target id. A reference's
   * `:identifier` matches them too, as in SQL; the caller fills them (they live in the store), see
   * `identifierTargets`.
   */
  readonly targetIdentifiers = new Map<string, { system: string | null; code: string | null }[]>();

  constructor(
    readonly resource: Resource,
    private readonly baseUrl: string,
  ) {}

  rows(param: string): IndexRow[] {
    if (!this.byParam) {
      this.byParam = new Map();
      for (const r of computeIndexRows(this.resource as unknown as Record<string, unknown>, this.baseUrl)) {
        const list = this.byParam.get(r.param);
        if (list) list.push(r);
        else this.byParam.set(r.param, [r]);
      }
    }
    return this.byParam.get(param) ?? [];
  }
}

/** The local targets (type and id) of the reference parameters that these searches use with `:identifier`. */
export function identifierTargets(reqs: readonly SearchRequest[], indexed: IndexedResource): { type: string; id: string }[] {
  const codes = new Set(reqs.flatMap((r) => r.filters.filter((f) => f.def?.type === 'reference' && f.modifier === 'identifier').map((f) => f.code)));
  const out = new Map<string, { type: string; id: string }>();
  for (const code of codes) for (const row of indexed.rows(code)) if (row.refId && row.system) out.set(row.refId, { type: row.system, id: row.refId });
  return [...out.values()];
}

export function matchesCriteria(req: SearchRequest, indexed: IndexedResource, baseUrl: string): boolean {
  if (indexed.resource.resourceType !== req.resourceType) return false;
  return req.filters.every((f) => filterMatches(f, indexed, baseUrl));
}

function filterMatches(f: Filter, indexed: IndexedResource, baseUrl: string): boolean {
  const resource = indexed.resource;
  if (f.code === '_id') return f.values.some((v) => v.toLowerCase() === resource.id?.toLowerCase());
  if (f.code === '_lastUpdated') {
    const t = resource.meta?.lastUpdated ? Date.parse(resource.meta.lastUpdated) : Number.NaN;
    if (Number.isNaN(t)) return false;
    // An instant: the range of one millisecond, as in SQL.
    return f.values.some((v) => dateHolds(v, { lo: t, hi: t + 1 }));
  }
  const def = f.def!;
  const module = paramTypeModule(def.type);
  const rows = indexed.rows(module.indexParam?.(f.code, f.modifier) ?? f.code);
  let found = rows.some((row) => f.values.some((v) => module.matches({ def, modifier: f.modifier }, v, row, baseUrl)));
  if (!found && def.type === 'reference' && f.modifier === 'identifier') {
    found = indexed.rows(f.code).some((row) => row.refId !== null && (indexed.targetIdentifiers.get(row.refId) ?? []).some((t) => f.values.some((v) => tokenMatches(v, t))));
  }
  return module.negatedBy !== undefined && f.modifier === module.negatedBy ? !found : found;
}
