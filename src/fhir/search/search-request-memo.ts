// Parsed search requests kept by what a search's URL gives them: the resource type, the query's pairs
// and the handling (strict or lenient); one memo per service, whose page-count and size settings are
// fixed. Sites repeat the same searches (Organization and Endpoint by identifier, Task by status), and
// parsing one again costs a few microseconds of the search's own CPU.
//
// What is kept is frozen (the request, its filters, values, sorts, includes, elements and links'
// parameters), so no caller can change what the next search gets; the parameter definitions it points
// to are the definitions table's, shared as before. Only requests without warnings are kept (their
// issues go into the response's OperationOutcome as objects), errors never: they are thrown each time.
// Nothing here depends on the database or the time: parsing reads the query and the definitions only.
import { parseSearchRequest, type ParseOptions, type SearchRequest } from './search-request.ts';

/** Most requests kept; then the oldest goes. */
export const MAX_KEPT_REQUESTS = 1024;
/** Longest query kept (characters of its keys and values together); longer ones are parsed each time. */
export const MAX_KEPT_QUERY_CHARS = 2048;
/** Most requests kept under one key (other types or handling with the same value); then that key's are dropped. */
export const MAX_KEPT_PER_KEY = 4;
/** Most pairs of a query kept. */
export const MAX_KEPT_QUERY_PAIRS = 16;

interface Kept {
  type: string;
  strict: boolean;
  /** The query's keys and values in order, compared on a hit (the map's key is a part of them, or joins them ambiguously). */
  flat: string[];
  req: SearchRequest;
}

function freezeRequest(req: SearchRequest): SearchRequest {
  for (const f of req.filters) Object.freeze(Object.freeze(f).values);
  for (const s of req.sort) Object.freeze(s);
  for (const i of req.include) Object.freeze(i);
  for (const i of req.revinclude) Object.freeze(i);
  for (const pair of req.canonicalParams) Object.freeze(pair);
  Object.freeze(req.filters);
  Object.freeze(req.sort);
  Object.freeze(req.include);
  Object.freeze(req.revinclude);
  Object.freeze(req.canonicalParams);
  Object.freeze(req.warnings);
  if (req.elements) Object.freeze(req.elements);
  return Object.freeze(req);
}

export class SearchRequestMemo {
  /** By the key parse builds, each with the requests of other types or handling of that key. */
  private readonly kept = new Map<string, Kept[]>();
  private count = 0;

  constructor(
    private readonly opts: Omit<ParseOptions, 'strict'>,
    private readonly maxKept = MAX_KEPT_REQUESTS,
  ) {}

  /** parseSearchRequest's request for this query, frozen; the same object while it is kept. */
  parse(type: string, query: readonly [string, string][], strict: boolean): SearchRequest {
    if (query.length > MAX_KEPT_QUERY_PAIRS) return this.parseAnew(type, query, strict);
    // One pair (nearly every search a site repeats): its value alone is the key, the rest compared on a hit;
    // a key built by joining costs a fresh string to flatten and hash.
    let key = query.length === 1 ? query[0]![1] : `${type}?`;
    if (query.length !== 1) for (let k = 0; k < query.length; k++) key += `${k ? '&' : ''}${query[k]![0]}=${query[k]![1]}`;
    if (key.length > MAX_KEPT_QUERY_CHARS || (query.length === 1 && query[0]![0].length > MAX_KEPT_QUERY_CHARS)) return this.parseAnew(type, query, strict);
    const same = this.kept.get(key);
    if (same !== undefined) for (const k of same) if (k.type === type && k.strict === strict && sameQuery(k.flat, query)) return k.req;
    const req = this.parseAnew(type, query, strict);
    if (req.warnings.length) return req;
    const flat: string[] = [];
    for (const [k, v] of query) flat.push(k, v);
    const kept: Kept = { type, strict, flat, req: freezeRequest(req) };
    if (same !== undefined && same.length < MAX_KEPT_PER_KEY && this.count < this.maxKept) same.push(kept);
    else {
      if (same !== undefined) this.count -= same.length;
      this.kept.delete(key); // set again below, as the newest
      while (this.count >= this.maxKept && this.kept.size) this.forgetOldest();
      this.kept.set(key, [kept]);
    }
    this.count++;
    return req;
  }

  private forgetOldest(): void {
    const [key, oldest] = this.kept.entries().next().value!;
    this.kept.delete(key);
    this.count -= oldest.length;
  }

  /** How many requests are kept (for tests). */
  get size(): number {
    return this.count;
  }

  private parseAnew(type: string, query: readonly [string, string][], strict: boolean): SearchRequest {
    return parseSearchRequest(type, query as [string, string][], { ...this.opts, strict });
  }
}

function sameQuery(flat: readonly string[], query: readonly [string, string][]): boolean {
  if (flat.length !== query.length * 2) return false;
  for (let k = 0; k < query.length; k++) if (flat[2 * k] !== query[k]![0] || flat[2 * k + 1] !== query[k]![1]) return false;
  return true;
}
