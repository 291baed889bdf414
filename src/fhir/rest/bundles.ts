// Search and history results as Bundles with self/first/previous/next/last links.
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import type { SearchRequest } from '../search/search-request.ts';
import type { SearchResult } from '../search/search-service.ts';
import type { StoredVersion } from '../store/resource-store.ts';
import { parseSummaryMode, selectElements, summarize } from './summary.ts';

function pageLinks(base: string, params: [string, string][], page: number, count: number, total: number): BundleLink[] {
  const url = (p: number) => {
    const q = new URLSearchParams(params);
    q.set('_count', String(count));
    q.set('_page', String(p));
    return `${base}?${q.toString()}`;
  };
  const last = Math.max(1, Math.ceil(total / Math.max(count, 1)));
  const links: BundleLink[] = [{ relation: 'self', url: url(page) }];
  if (count === 0) return links;
  links.push({ relation: 'first', url: url(1) });
  if (page > 1) links.push({ relation: 'previous', url: url(Math.min(page - 1, last)) });
  if (page < last) links.push({ relation: 'next', url: url(page + 1) });
  links.push({ relation: 'last', url: url(last) });
  return links;
}

/** The form of a result entry: _summary, else _elements (which names elements of the searched type, so matches only). */
function subset(resource: Resource, req: SearchRequest, match: boolean): Resource {
  if (req.summary && req.summary !== 'false') return summarize(resource, req.summary);
  return match ? selectElements(resource, req.elements) : resource;
}

export function searchsetBundle(baseUrl: string, req: SearchRequest, result: SearchResult): Bundle {
  const entry: BundleEntry[] = [
    ...result.matches.map((r) => ({ fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`, resource: subset(r, req, true), search: { mode: 'match' as const } })),
    ...result.included.map((r) => ({ fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`, resource: subset(r, req, false), search: { mode: 'include' as const } })),
  ];
  if (req.warnings.length) {
    entry.push({ resource: { resourceType: 'OperationOutcome', issue: req.warnings }, search: { mode: 'outcome' } });
  }
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: result.total,
    link: pageLinks(`${baseUrl}/${req.resourceType}`, req.canonicalParams, req.page, req.summary === 'count' ? 0 : req.count, result.total),
  };
  if (entry.length) bundle.entry = entry;
  return bundle;
}

export function historyBundle(baseUrl: string, path: string, query: [string, string][], page: number, count: number, total: number, versions: StoredVersion[]): Bundle {
  const params = query.filter(([k]) => k === '_since' || k === '_at' || k === '_summary');
  const summaryValue = query.filter(([k]) => k === '_summary').at(-1)?.[1];
  const summary = summaryValue === undefined ? undefined : parseSummaryMode(summaryValue);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    total,
    link: pageLinks(`${baseUrl}/${path}`, params, page, summary === 'count' ? 0 : count, total),
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
