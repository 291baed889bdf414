// Decides whether one resource version matches a Subscription's criteria, in memory and with the
// semantics of search (src/fhir/search/search-sql.ts): the resource's search index rows are computed
// as the store would write them, and each parsed filter is evaluated against them. Matching the
// version itself (not the current database state) matters: a Task created as requested and updated
// to in-progress a moment later must still be announced as requested.
import type { Resource } from '@medplum/fhirtypes';
import { computeIndexRows, normalizeString, type IndexRow } from '../search/index-rows.ts';
import { parseReference } from '../search/reference.ts';
import { parseDateValue, type DatePrefix, type Filter, type SearchRequest } from '../search/search-request.ts';

/** The index rows of one resource grouped by parameter, computed once per event. */
export class IndexedResource {
  private byParam: Map<string, IndexRow[]> | undefined;

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

export function matchesCriteria(req: SearchRequest, indexed: IndexedResource, baseUrl: string): boolean {
  if (indexed.resource.resourceType !== req.resourceType) return false;
  return req.filters.every((f) => filterMatches(f, indexed, baseUrl));
}

function filterMatches(f: Filter, indexed: IndexedResource, baseUrl: string): boolean {
  const resource = indexed.resource;
  if (f.code === '_id') return f.values.some((v) => v.toLowerCase() === resource.id?.toLowerCase());
  if (f.code === '_lastUpdated') {
    const t = resource.meta?.lastUpdated ? new Date(resource.meta.lastUpdated) : undefined;
    if (!t) return false;
    const lo = t.getTime();
    return f.values.some((v) => {
      const d = parseDateValue(v)!;
      return dateMatches(d.prefix, lo, lo + 1, d.range);
    });
  }
  const param = f.modifier === 'identifier' ? `${f.code}:identifier` : f.code;
  const rows = indexed.rows(param);
  const found = rows.some((row) => f.values.some((v) => valueMatches(f, v, row, baseUrl)));
  return f.modifier === 'not' ? !found : found;
}

function tokenMatches(value: string, row: IndexRow): boolean {
  const bar = value.indexOf('|');
  if (bar < 0) return row.code === value;
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (system === '') return row.system === null && row.code === code;
  if (code === '') return row.system === system;
  return row.code === code && row.system === system;
}

function valueMatches(f: Filter, value: string, row: IndexRow, baseUrl: string): boolean {
  switch (f.def!.type) {
    case 'token':
      return tokenMatches(value, row);
    case 'string':
      if (f.modifier === 'exact') return row.code === value;
      if (f.modifier === 'contains') return row.norm !== null && row.norm.includes(normalizeString(value));
      return row.norm !== null && row.norm.startsWith(normalizeString(value));
    case 'uri':
      if (f.modifier === 'below') return row.code !== null && row.code.startsWith(value);
      return row.code === value;
    case 'reference': {
      if (f.modifier === 'identifier') return tokenMatches(value, row);
      const ref = parseReference(value, baseUrl);
      if (ref?.local) return row.system === ref.type && row.code === ref.id;
      if (ref) return row.norm === value;
      if (/^https?:\/\//.test(value) || value.startsWith('urn:')) return row.norm === value || row.code === value;
      if (f.modifier) return row.system === f.modifier && row.code === value;
      return row.code === value;
    }
    case 'date': {
      if (row.lo === null || row.hi === null) return false;
      const d = parseDateValue(value)!;
      return dateMatches(d.prefix, Date.parse(row.lo), Date.parse(row.hi), d.range);
    }
    default:
      return false;
  }
}

/** The same comparisons as the SQL date conditions, on half-open ranges [lo, hi). */
function dateMatches(prefix: DatePrefix, lo: number, hi: number, range: { lo: Date; hi: Date }): boolean {
  const slo = range.lo.getTime();
  const shi = range.hi.getTime();
  switch (prefix) {
    case 'ne':
      return !(lo >= slo && hi <= shi);
    case 'gt':
      return hi > shi;
    case 'lt':
      return lo < slo;
    case 'ge':
      return hi > slo;
    case 'le':
      return lo < shi;
    case 'sa':
      return lo >= shi;
    case 'eb':
      return hi <= slo;
    default:
      return lo >= slo && hi <= shi;
  }
}
