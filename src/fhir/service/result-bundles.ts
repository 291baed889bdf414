// Search and history results as Bundles with self/first/previous/next/last links.
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import type { SearchRequest } from '../search/search-request.ts';
import type { ResourceText, SearchResult } from '../store/search-query.ts';
import type { StoredVersion } from '../store/resource-store.ts';
import { parseSummaryMode, selectElements, summarize } from './summary.ts';
import { compactJsonbText } from '../store/jsonb-text.ts';
import { ReferenceCleaningWatch } from '../references/reference-cleaner.ts';
import { contentStorageOf } from './content.ts';

/**
 * Paging links. A page is addressed by _page when it starts at a multiple of _count, otherwise by
 * _offset (after a page that ended early at its byte bound); `returned` is how many entries this
 * page has, so that `next` continues right after them.
 */
function pageLinks(base: string, params: readonly [string, string][], offset: number, count: number, total: number, returned: number): BundleLink[] {
  return pageLinksAfter(linkPrefix(base, params, count), offset, count, total, returned);
}

/** The links' URL up to their _page or _offset: the parameters with _count, encoded once (_page and _offset, never among them, come last). */
function linkPrefix(base: string, params: readonly [string, string][], count: number): string {
  const q = new URLSearchParams(params as [string, string][]);
  q.set('_count', String(count));
  return `${base}?${q.toString()}&`;
}

function pageLinksAfter(prefix: string, offset: number, count: number, total: number, returned: number): BundleLink[] {
  const url = (o: number) => (count > 0 && o % count === 0 ? `${prefix}_page=${o / count + 1}` : `${prefix}_offset=${o}`);
  const self = url(offset);
  const links: BundleLink[] = [{ relation: 'self', url: self }];
  if (count === 0) return links;
  const lastOffset = Math.max(0, Math.ceil(total / count) - 1) * count;
  // A page that is the first (or the last) has that link's URL already: the same string, built once
  // (and, being the same string, written into the JSON once: searchsetFrameJson).
  const first = offset === 0 ? self : url(0);
  links.push({ relation: 'first', url: first });
  if (offset > 0) links.push({ relation: 'previous', url: url(Math.min(Math.max(0, offset - count), lastOffset)) });
  if (offset + returned < total) links.push({ relation: 'next', url: url(offset + returned) });
  links.push({ relation: 'last', url: lastOffset === offset ? self : lastOffset === 0 ? first : url(lastOffset) });
  return links;
}

/** The form of a result entry: _summary, else _elements (which names elements of the searched type, so matches only). */
function subset(resource: Resource, req: SearchRequest, match: boolean): Resource {
  if (req.summary && req.summary !== 'false') return summarize(resource, req.summary);
  return match ? selectElements(resource, req.elements) : resource;
}

/** The searchset's warnings as its outcome entry, if any. */
function outcomeEntry(req: SearchRequest, result: SearchResult<unknown>): BundleEntry | undefined {
  const warnings = [...req.warnings];
  if (result.includesLeftOut) {
    warnings.push({
      severity: 'warning',
      code: 'too-costly',
      diagnostics: `${result.includesLeftOut} included resource(s) left out: the page would exceed its size limit (DSF_FHIR_MAX_PAGE_BYTES); ask for fewer matches per page`,
    });
  }
  return warnings.length ? { resource: { resourceType: 'OperationOutcome', issue: warnings }, search: { mode: 'outcome' } } : undefined;
}

/** The searchset without its entries. */
function searchsetFrame(baseUrl: string, req: SearchRequest, result: SearchResult<unknown>): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: result.total,
    link: pageLinks(`${baseUrl}/${req.resourceType}`, req.canonicalParams, result.offset, req.summary === 'count' ? 0 : req.count, result.total, result.matches.length),
  };
}

/**
 * A frozen request's (search-request-memo.ts: the same object for the same URL) last frame, with its
 * links' prefix: a site's repeated searches (one match, page 1) have the same frame every time.
 */
interface KeptFrame {
  baseUrl: string;
  prefix: string;
  offset: number;
  total: number;
  returned: number;
  json: string;
}
const keptFrames = new WeakMap<SearchRequest, KeptFrame>();

/**
 * JSON.stringify(searchsetFrame(...)) without its closing brace, written as text: the frame's keys and
 * relations are fixed words, only the total and the links' URLs vary. For a frozen request, the last
 * frame is kept with it and written again only when the base, the page's offset, the total or the
 * number of matches differ (all else comes from the request).
 */
function searchsetFrameJson(baseUrl: string, req: SearchRequest, result: SearchResult<unknown>): string {
  const count = req.summary === 'count' ? 0 : req.count;
  const returned = result.matches.length;
  const frozen = Object.isFrozen(req);
  const kept = frozen ? keptFrames.get(req) : undefined;
  const sameBase = kept?.baseUrl === baseUrl ? kept : undefined;
  if (sameBase !== undefined && sameBase.offset === result.offset && sameBase.total === result.total && sameBase.returned === returned) return sameBase.json;
  const prefix = sameBase?.prefix ?? linkPrefix(`${baseUrl}/${req.resourceType}`, req.canonicalParams, count);
  const links = pageLinksAfter(prefix, result.offset, count, result.total, returned);
  let json = `{"resourceType":"Bundle","type":"searchset","total":${JSON.stringify(result.total)},"link":[`;
  let url: string | undefined;
  let urlJson = '';
  for (let k = 0; k < links.length; k++) {
    // A URL the link before had (self, first and last of a one-page result) is not escaped again.
    if (links[k]!.url !== url) urlJson = JSON.stringify((url = links[k]!.url));
    json += `${k ? ',' : ''}{"relation":"${links[k]!.relation}","url":${urlJson}}`;
  }
  json += ']';
  if (frozen) keptFrames.set(req, { baseUrl, prefix, offset: result.offset, total: result.total, returned, json });
  return json;
}

export function searchsetBundle(baseUrl: string, req: SearchRequest, result: SearchResult): Bundle {
  const entry: BundleEntry[] = [
    ...result.matches.map((r) => ({ fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`, resource: subset(r, req, true), search: { mode: 'match' as const } })),
    ...result.included.map((r) => ({ fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`, resource: subset(r, req, false), search: { mode: 'include' as const } })),
  ];
  const outcome = outcomeEntry(req, result);
  if (outcome) entry.push(outcome);
  const bundle = searchsetFrame(baseUrl, req, result);
  if (entry.length) bundle.entry = entry;
  return bundle;
}

/**
 * A string JSON.stringify writes as it is between quotes: no quote, backslash, control character or
 * surrogate (a lone one is escaped; pairs are refused too, for a simple rule). An entry's fullUrl (base
 * URL, type and id) nearly always is one, and escaping it costs more than these tests.
 */
const PLAIN_JSON = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * JSON.stringify(cleanForOutput(searchsetBundle(...))) of the same result with its resources parsed,
 * written from the stored texts without parsing them; undefined where that could differ: _summary or
 * _elements to apply, a type whose content is kept apart (put in on the way out), a text
 * compactJsonbText cannot take as it is, a reference that reference cleaning could change.
 */
export function searchsetJson(baseUrl: string, req: SearchRequest, result: SearchResult<ResourceText>): string | undefined {
  if ((req.summary && req.summary !== 'false' && req.summary !== 'count') || req.elements?.length) return undefined;
  const entries: string[] = [];
  const plainBase = PLAIN_JSON.test(baseUrl);
  const add = (r: ResourceText, mode: 'match' | 'include'): boolean => {
    if (contentStorageOf(r.type)) return false;
    const cleaning = new ReferenceCleaningWatch();
    const json = compactJsonbText(r.text, cleaning);
    if (json === undefined || cleaning.mayChange) return false;
    const fullUrl = `${baseUrl}/${r.type}/${r.id}`;
    const fullUrlJson = plainBase && PLAIN_JSON.test(r.type) && PLAIN_JSON.test(r.id) ? `"${fullUrl}"` : JSON.stringify(fullUrl);
    entries.push(`{"fullUrl":${fullUrlJson},"resource":${json},"search":{"mode":"${mode}"}}`);
    return true;
  };
  for (const r of result.matches) if (!add(r, 'match')) return undefined;
  for (const r of result.included) if (!add(r, 'include')) return undefined;
  const outcome = outcomeEntry(req, result);
  if (outcome) entries.push(JSON.stringify(outcome));
  const frame = searchsetFrameJson(baseUrl, req, result);
  return entries.length ? `${frame},"entry":[${entries.join(',')}]}` : `${frame}}`;
}

export function historyBundle(baseUrl: string, path: string, query: [string, string][], offset: number, count: number, total: number, versions: StoredVersion[]): Bundle {
  const params = query.filter(([k]) => k === '_since' || k === '_at' || k === '_summary');
  const summaryValue = query.filter(([k]) => k === '_summary').at(-1)?.[1];
  const summary = summaryValue === undefined ? undefined : parseSummaryMode(summaryValue);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    total,
    link: pageLinks(`${baseUrl}/${path}`, params, offset, summary === 'count' ? 0 : count, total, versions.length),
  };
  if (versions.length && summary !== 'count') {
    bundle.entry = versions.map((v) => {
      const fullUrl = `${baseUrl}/${v.type}/${v.id}`;
      const e: BundleEntry = {
        fullUrl,
        request: { method: v.deleted ? 'DELETE' : v.version === 1 ? 'POST' : 'PUT', url: v.version === 1 && !v.deleted ? v.type : `${v.type}/${v.id}` },
        response: { status: v.deleted ? '204 No Content' : v.version === 1 ? '201 Created' : '200 OK', etag: `W/"${v.version}"`, lastModified: v.lastUpdated },
      };
      if (v.resource) e.resource = summarize(v.resource, summary);
      return e;
    });
  }
  return bundle;
}
