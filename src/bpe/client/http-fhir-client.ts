// The FhirClient plugins and the BPE use: FHIR REST over HTTPS with the organisation's client
// certificate (keep-alive), JSON or XML, optional retries with back-off when the server cannot be
// reached. Errors: FhirHttpError (the server answered with an error status), FhirConnectionError
// (it could not be reached).
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { HttpResponse, HttpsClient } from '../../common/https-client.ts';
import { FhirConnectionError, FhirHttpError, type FhirClient, type SearchParams, type WriteResult } from '../../plugin-api/fhir-client.ts';
import { parseFhirXml } from '../../fhir/model/xml-parse.ts';
import { toFhirXml } from '../../fhir/model/xml-write.ts';

export interface HttpFhirClientOptions {
  http: HttpsClient;
  baseUrl: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  format?: 'json' | 'xml';
  /** Retries after a failed attempt: 0 none, -1 forever. */
  maxRetries?: number;
  retryDelayMs?: number;
}

const JSON_MIME = 'application/fhir+json';
const XML_MIME = 'application/fhir+xml';
/** Statuses worth another attempt: the server (or a proxy before it) is temporarily unavailable. */
const RETRY_STATUSES = new Set([502, 503, 504]);

export function searchQuery(params: SearchParams | undefined): string {
  if (!params) return '';
  if (params instanceof URLSearchParams) return params.toString();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const x of v) q.append(k, String(x));
    else q.append(k, String(v));
  }
  return q.toString();
}

/** id and version from a Location header: .../Type/id/_history/v */
export function parseLocation(location: string): { id: string; versionId?: string } {
  const m = /\/([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?\/?$/.exec(location);
  if (!m) throw new Error(`unexpected Location '${location}'`);
  return m[3] ? { id: m[2]!, versionId: m[3] } : { id: m[2]! };
}

export class HttpFhirClient implements FhirClient {
  readonly baseUrl: string;

  constructor(private readonly options: HttpFhirClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
  }

  withRetry(maxRetries: number, delayMs: number): FhirClient {
    return new HttpFhirClient({ ...this.options, maxRetries, retryDelayMs: delayMs });
  }
  withRetryForever(delayMs: number): FhirClient {
    return new HttpFhirClient({ ...this.options, maxRetries: -1, retryDelayMs: delayMs });
  }
  withXml(): FhirClient {
    return new HttpFhirClient({ ...this.options, format: 'xml' });
  }

  async read<R extends Resource = Resource>(type: R['resourceType'], id: string): Promise<R> {
    return (await this.send('GET', `${type}/${encodeURIComponent(id)}`)).resource as R;
  }

  async vread<R extends Resource = Resource>(type: R['resourceType'], id: string, versionId: string): Promise<R> {
    return (await this.send('GET', `${type}/${encodeURIComponent(id)}/_history/${encodeURIComponent(versionId)}`)).resource as R;
  }

  async search(type: string, params?: SearchParams): Promise<Bundle> {
    const q = searchQuery(params);
    return (await this.send('GET', q ? `${type}?${q}` : type)).resource as Bundle;
  }

  async searchAll<R extends Resource = Resource>(type: R['resourceType'], params?: SearchParams): Promise<R[]> {
    const out: R[] = [];
    let bundle = await this.search(type, params);
    for (let pages = 0; pages < 10_000; pages++) {
      for (const e of bundle.entry ?? []) {
        if (e.resource?.resourceType === type && (e.search?.mode ?? 'match') === 'match') out.push(e.resource as R);
      }
      const next = bundle.link?.find((l) => l.relation === 'next')?.url;
      if (!next) break;
      bundle = (await this.send('GET', next)).resource as Bundle;
    }
    return out;
  }

  async create<R extends Resource>(resource: R, options: { ifNoneExist?: string } = {}): Promise<R> {
    const headers: Record<string, string> = { prefer: 'return=representation' };
    if (options.ifNoneExist) headers['if-none-exist'] = options.ifNoneExist;
    return (await this.send('POST', resource.resourceType, resource, headers)).resource as R;
  }

  async createMinimal(resource: Resource, options: { ifNoneExist?: string } = {}): Promise<WriteResult> {
    const headers: Record<string, string> = { prefer: 'return=minimal' };
    if (options.ifNoneExist) headers['if-none-exist'] = options.ifNoneExist;
    const r = await this.send('POST', resource.resourceType, resource, headers);
    const location = header(r.response, 'location') ?? header(r.response, 'content-location');
    if (!location) throw new Error(`POST ${this.baseUrl}/${resource.resourceType}: no Location in the response`);
    return { ...parseLocation(location), location };
  }

  async update<R extends Resource>(resource: R, options: { ifMatch?: string } = {}): Promise<R> {
    if (!resource.id) throw new TypeError(`update of a ${resource.resourceType} without id`);
    const headers: Record<string, string> = { prefer: 'return=representation' };
    if (options.ifMatch) headers['if-match'] = `W/"${options.ifMatch}"`;
    return (await this.send('PUT', `${resource.resourceType}/${encodeURIComponent(resource.id)}`, resource, headers)).resource as R;
  }

  async updateConditional<R extends Resource>(resource: R, criteria: SearchParams): Promise<R> {
    return (await this.send('PUT', `${resource.resourceType}?${searchQuery(criteria)}`, resource, { prefer: 'return=representation' })).resource as R;
  }

  async delete(type: string, id: string): Promise<void> {
    await this.send('DELETE', `${type}/${encodeURIComponent(id)}`);
  }

  async deleteConditional(type: string, criteria: SearchParams): Promise<void> {
    await this.send('DELETE', `${type}?${searchQuery(criteria)}`);
  }

  async postBundle(bundle: Bundle, options: { returnMinimal?: boolean } = {}): Promise<Bundle> {
    return (await this.send('POST', '', bundle, { prefer: options.returnMinimal ? 'return=minimal' : 'return=representation' })).resource as Bundle;
  }

  // ---- transport ------------------------------------------------------------------------

  private async send(method: string, path: string, body?: Resource, extraHeaders: Record<string, string> = {}): Promise<{ resource: Resource | undefined; response: HttpResponse }> {
    const url = /^https?:\/\//.test(path) ? path : path ? `${this.baseUrl}/${path}` : this.baseUrl;
    const xml = this.options.format === 'xml';
    const headers: Record<string, string> = { accept: xml ? XML_MIME : JSON_MIME, ...extraHeaders };
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = xml ? XML_MIME : JSON_MIME;
      payload = xml ? toFhirXml(body) : JSON.stringify(body);
    }
    const maxRetries = this.options.maxRetries ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(method, url, headers, payload);
      } catch (e) {
        const retryable = e instanceof FhirConnectionError || (e instanceof FhirHttpError && RETRY_STATUSES.has(e.status));
        if (!retryable || (maxRetries >= 0 && attempt >= maxRetries)) throw e;
        // Back-off: the configured delay, doubling up to eight times it.
        const delay = (this.options.retryDelayMs ?? 1000) * Math.min(2 ** attempt, 8);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async attempt(method: string, url: string, headers: Record<string, string>, payload: string | undefined) {
    let response: HttpResponse;
    try {
      response = await this.options.http.request(url, {
        method,
        headers,
        body: payload,
        timeoutMs: this.options.readTimeoutMs,
        connectTimeoutMs: this.options.connectTimeoutMs,
      });
    } catch (e) {
      throw new FhirConnectionError(method, url, (e as { code?: string }).code, e);
    }
    const resource = parseBody(response);
    if (response.status >= 400) throw new FhirHttpError(response.status, method, url, resource?.resourceType === 'OperationOutcome' ? (resource as OperationOutcome) : undefined);
    return { resource, response };
  }
}

function header(r: HttpResponse, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseBody(r: HttpResponse): Resource | undefined {
  if (!r.body) return undefined;
  const type = header(r, 'content-type') ?? '';
  try {
    if (/xml/i.test(type) || r.body.trimStart().startsWith('<')) return parseFhirXml(r.body);
    return JSON.parse(r.body) as Resource;
  } catch {
    return undefined; // an error page that is no FHIR resource: the status tells enough
  }
}
