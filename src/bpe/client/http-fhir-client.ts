// The FhirClient plugins and the BPE use (the reference's DsfClient): FHIR REST over HTTP(S) with the
// connection's credentials, JSON or XML, the three return modes, Binary content as streams with byte
// ranges, asynchronous search and operations (Prefer: respond-async, polling the 202's location), and
// retries. Errors: FhirHttpError (the server answered with an error status), FhirConnectionError (it
// could not be reached).
import { Readable } from 'node:stream';
import type { Binary, Bundle, CapabilityStatement, OperationOutcome, Parameters, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { HttpResponse, StreamedResponse } from '../../common/https-client.ts';
import {
  DelayStrategies,
  FhirConnectionError,
  FhirHttpError,
  type AsyncOptions,
  type BinaryContent,
  type BinaryInputStream,
  type ByteRange,
  type DelayStrategy,
  type FhirClient,
  type HistoryOptions,
  type MinimalReturnClient,
  type OperationOutcomeReturnClient,
  type OperationTarget,
  type ReadBinaryOptions,
  type SearchParams,
  type UpdateOptions,
  type WriteResult,
} from '../../plugin-api/index.ts';
import { parseFhirXml } from '../../fhir/model/xml-parse.ts';
import { toFhirXml } from '../../fhir/model/xml-write.ts';
import type { FhirHttp, StreamRequestOptions } from './http-transport.ts';
import { wasNotSent } from '../../common/request-delivery.ts';
import { isIdempotent } from './stale-socket-guard.ts';

export interface HttpFhirClientOptions {
  http: FhirHttp;
  baseUrl: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  format?: 'json' | 'xml';
  /** Retries after a failed attempt: 0 none, -1 forever. */
  maxRetries?: number;
  /** Waits between attempts (default: retryDelayMs doubling to eight times it). */
  retryDelay?: DelayStrategy;
  retryDelayMs?: number;
  /** Told about requests with a resource body (the BPE: Task send metrics, trace headers). */
  observer?: FhirRequestObserver;
}

/** Sees the requests of a client that send a resource: may add headers, learns how each ended. */
export interface FhirRequestObserver {
  /** Headers to add to the request (e.g. traceparent on a Task create). */
  headers?(method: string, baseUrl: string, body: Resource): Record<string, string> | undefined;
  /** After the last attempt: error undefined when it succeeded. */
  done?(method: string, baseUrl: string, body: Resource, error: unknown): void;
}

const JSON_MIME = 'application/fhir+json';
const XML_MIME = 'application/fhir+xml';
type ReturnMode = 'representation' | 'minimal' | 'OperationOutcome';

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

/** Retry-After as milliseconds: delay-seconds or an HTTP date (a date in the past waits 0). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value?.trim()) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** bytes start-end/size */
export function parseContentRange(value: string | undefined): ByteRange | undefined {
  const m = value ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim()) : null;
  return m ? { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) } : undefined;
}

/** The Range header of a Binary read (the reference's three forms); undefined for none. */
export function rangeHeader(start: number | undefined, endInclusive: number | undefined): string | undefined {
  if (start !== undefined && start >= 0 && endInclusive === undefined) return `bytes=${start}-`;
  if (start !== undefined && start >= 0 && endInclusive !== undefined && endInclusive > start) return `bytes=${start}-${endInclusive}`;
  if (start === undefined && endInclusive !== undefined && endInclusive < 0) return `bytes=${endInclusive}`;
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  resource: Resource | undefined;
  response: HttpResponse;
}

export class HttpFhirClient implements FhirClient {
  readonly baseUrl: string;

  constructor(private readonly options: HttpFhirClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
  }

  withRetry(maxRetries: number, delay: number | DelayStrategy): FhirClient {
    if (!Number.isInteger(maxRetries) || maxRetries < -1) throw new RangeError('maxRetries < 0');
    return new HttpFhirClient({ ...this.options, maxRetries, ...retryDelayOptions(delay) });
  }
  withRetryForever(delay: number | DelayStrategy): FhirClient {
    return new HttpFhirClient({ ...this.options, maxRetries: -1, ...retryDelayOptions(delay) });
  }
  withXml(): FhirClient {
    return new HttpFhirClient({ ...this.options, format: 'xml' });
  }
  withMinimalReturn(): MinimalReturnClient {
    return new ReturnModeClient(this, 'minimal') as unknown as MinimalReturnClient;
  }
  withOperationOutcomeReturn(): OperationOutcomeReturnClient {
    return new ReturnModeClient(this, 'OperationOutcome') as unknown as OperationOutcomeReturnClient;
  }

  // ---- reads ----------------------------------------------------------------------------

  async read<R extends Resource = Resource>(type: R['resourceType'], id: string): Promise<R> {
    return (await this.send('GET', `${type}/${encodeURIComponent(id)}`)).resource as R;
  }

  async vread<R extends Resource = Resource>(type: R['resourceType'], id: string, versionId: string): Promise<R> {
    return (await this.send('GET', `${type}/${encodeURIComponent(id)}/_history/${encodeURIComponent(versionId)}`)).resource as R;
  }

  async readIfChanged<R extends Resource>(old: R): Promise<R> {
    if (!old.id) throw new TypeError(`readIfChanged of a ${old.resourceType} without id`);
    const headers: Record<string, string> = {};
    if (old.meta?.versionId) headers['if-none-match'] = `W/"${old.meta.versionId}"`;
    if (old.meta?.lastUpdated) headers['if-modified-since'] = new Date(old.meta.lastUpdated).toUTCString();
    const r = await this.send('GET', `${old.resourceType}/${encodeURIComponent(old.id)}`, undefined, headers, { okStatuses: [200, 304] });
    return r.response.status === 304 ? old : (r.resource as R);
  }

  async exists(type: string, id: string, versionId?: string): Promise<boolean> {
    const path = `${type}/${encodeURIComponent(id)}${versionId ? `/_history/${encodeURIComponent(versionId)}` : ''}`;
    const r = await this.send('HEAD', path, undefined, {}, { okStatuses: [200, 404] });
    return r.response.status === 200;
  }

  async readBinary(id: string, mediaType: string, options: ReadBinaryOptions = {}): Promise<BinaryInputStream> {
    const path = `Binary/${encodeURIComponent(id)}${options.version ? `/_history/${encodeURIComponent(options.version)}` : ''}`;
    const headers: Record<string, string> = { accept: mediaType, ...options.headers };
    const range = rangeHeader(options.rangeStart, options.rangeEndInclusive);
    if (range) headers.range = range;
    const url = `${this.baseUrl}/${path}`;
    const res = await this.retrying('GET', () => this.streamAttempt('GET', url, { headers }, [200, 206]));
    const contentLength = Number(header(res.headers, 'content-length') ?? NaN);
    const body = res.body as Readable;
    return {
      contentLength: Number.isFinite(contentLength) ? contentLength : -1,
      contentType: header(res.headers, 'content-type'),
      range: res.status === 206 ? parseContentRange(header(res.headers, 'content-range')) : undefined,
      body,
      async readAll() {
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      },
    };
  }

  async search(type: string, params?: SearchParams): Promise<Bundle> {
    const q = searchQuery(params);
    return (await this.send('GET', q ? `${type}?${q}` : type)).resource as Bundle;
  }

  async searchWithStrictHandling(type: string, params?: SearchParams): Promise<Bundle> {
    const q = searchQuery(params);
    return (await this.send('GET', q ? `${type}?${q}` : type, undefined, { prefer: 'handling=strict' })).resource as Bundle;
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

  searchAsync(urlOrType: string, params?: SearchParams, options?: AsyncOptions): Promise<Bundle> {
    return this.searchAsyncWith(urlOrType, params, options, false);
  }

  searchAsyncWithStrictHandling(urlOrType: string, params?: SearchParams, options?: AsyncOptions): Promise<Bundle> {
    return this.searchAsyncWith(urlOrType, params, options, true);
  }

  private async searchAsyncWith(urlOrType: string, params: SearchParams | undefined, options: AsyncOptions | undefined, strict: boolean): Promise<Bundle> {
    const q = searchQuery(params);
    const path = q ? `${urlOrType}${urlOrType.includes('?') ? '&' : '?'}${q}` : urlOrType;
    const prefer = strict ? 'respond-async, handling=strict' : 'respond-async';
    return (await this.async('GET', path, undefined, prefer, 'representation', options)).resource as Bundle;
  }

  async getConformance(): Promise<CapabilityStatement> {
    return (await this.send('GET', 'metadata', undefined, { accept: `${this.mime()}; fhirVersion=4.0` })).resource as CapabilityStatement;
  }

  async generateSnapshot(urlOrDifferential: string | StructureDefinition): Promise<StructureDefinition> {
    const parameters: Parameters =
      typeof urlOrDifferential === 'string'
        ? { resourceType: 'Parameters', parameter: [{ name: 'url', valueUri: urlOrDifferential }] }
        : { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: urlOrDifferential }] };
    return (await this.send('POST', 'StructureDefinition/$snapshot', parameters)).resource as StructureDefinition;
  }

  async history(options: HistoryOptions = {}): Promise<Bundle> {
    const parts = [options.type, options.id ? encodeURIComponent(options.id) : undefined, '_history'].filter(Boolean);
    const q = new URLSearchParams();
    if (options.page !== undefined) q.set('_page', String(options.page));
    if (options.count !== undefined) q.set('_count', String(options.count));
    const query = q.toString();
    return (await this.send('GET', `${parts.join('/')}${query ? `?${query}` : ''}`)).resource as Bundle;
  }

  // ---- writes ---------------------------------------------------------------------------

  async create<R extends Resource>(resource: R, options: { ifNoneExist?: string } = {}): Promise<R> {
    return (await this.write('representation', 'POST', resource.resourceType, resource, options.ifNoneExist ? { 'if-none-exist': options.ifNoneExist } : {})).resource as R;
  }

  createConditional<R extends Resource>(resource: R, ifNoneExistCriteria: string): Promise<R> {
    if (!ifNoneExistCriteria) throw new TypeError('ifNoneExistCriteria empty');
    return this.create(resource, { ifNoneExist: ifNoneExistCriteria });
  }

  async createMinimal(resource: Resource, options: { ifNoneExist?: string } = {}): Promise<WriteResult> {
    return this.minimal(await this.write('minimal', 'POST', resource.resourceType, resource, options.ifNoneExist ? { 'if-none-exist': options.ifNoneExist } : {}), `POST ${resource.resourceType}`);
  }

  async createBinary(content: BinaryContent, mediaType: string, securityContextReference?: string): Promise<Binary> {
    return (await this.writeBinary('representation', 'POST', 'Binary', content, mediaType, securityContextReference)).resource as Binary;
  }

  async update<R extends Resource>(resource: R, options: UpdateOptions = {}): Promise<R> {
    return (await this.write('representation', 'PUT', updatePath(resource), resource, updateIfMatch(resource, options))).resource as R;
  }

  async updateConditional<R extends Resource>(resource: R, criteria: SearchParams): Promise<R> {
    return (await this.write('representation', 'PUT', conditionalPath(resource, criteria), resource)).resource as R;
  }

  async updateBinary(id: string, content: BinaryContent, mediaType: string, securityContextReference?: string): Promise<Binary> {
    return (await this.writeBinary('representation', 'PUT', `Binary/${encodeURIComponent(id)}`, content, mediaType, securityContextReference)).resource as Binary;
  }

  async delete(type: string, id: string): Promise<void> {
    await this.send('DELETE', `${type}/${encodeURIComponent(id)}`);
  }

  async deleteConditional(type: string, criteria: SearchParams): Promise<void> {
    const q = searchQuery(criteria);
    if (!q) throw new TypeError('criteria empty');
    await this.send('DELETE', `${type}?${q}`);
  }

  async deletePermanently(type: string, id: string): Promise<void> {
    await this.send('POST', `${type}/${encodeURIComponent(id)}/$permanent-delete`);
  }

  async postBundle(bundle: Bundle, options: { returnMinimal?: boolean } = {}): Promise<Bundle> {
    return (await this.write(options.returnMinimal ? 'minimal' : 'representation', 'POST', '', bundle)).resource as Bundle;
  }

  async operation<R extends Resource = Resource>(name: string, parameters?: Parameters, target?: OperationTarget): Promise<R> {
    return (await this.write('representation', 'POST', operationPath(name, target), parameters)).resource as R;
  }

  async operationAsync<R extends Resource = Resource>(name: string, parameters?: Parameters, target?: OperationTarget, options?: AsyncOptions): Promise<R> {
    return (await this.async('POST', operationPath(name, target), parameters, 'respond-async', 'representation', options)).resource as R;
  }

  // ---- shared by the return-mode clients ------------------------------------------------

  /** A write with `Prefer: return=<mode>`. */
  write(mode: ReturnMode, method: string, path: string, body: Resource | undefined, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send(method, path, body, { prefer: `return=${mode}`, ...headers });
  }

  async writeBinary(mode: ReturnMode, method: string, path: string, content: BinaryContent, mediaType: string, securityContextReference?: string): Promise<Answer> {
    if (!mediaType) throw new TypeError('mediaType empty');
    const headers: Record<string, string> = { prefer: `return=${mode}`, accept: this.mime(), 'content-type': mediaType };
    if (securityContextReference?.trim()) headers['x-security-context'] = securityContextReference;
    const url = `${this.baseUrl}/${path}`;
    // A stream can be sent once: no retries for streamed uploads.
    const attempt = async () => {
      const res = await this.streamAttempt(method, url, { headers, body: content instanceof Readable ? content : Buffer.from(content) }, [200, 201]);
      return this.toAnswer(res);
    };
    return content instanceof Readable ? attempt() : this.retrying(method, attempt);
  }

  /** Poll an asynchronous request (Prefer: respond-async) until its result is there. */
  async async(method: string, path: string, body: Resource | undefined, prefer: string, mode: ReturnMode, options: AsyncOptions = {}): Promise<Answer> {
    const strategy = options.delayStrategy ?? DelayStrategies.TRUNCATED_EXPONENTIAL_BACKOFF;
    const first = await this.send(method, path, body, { prefer: `${prefer}, return=${mode}` }, { okStatuses: [200, 202] });
    if (first.response.status === 200) return first;
    const contentLocation = header(first.response.headers, 'content-location');
    const location = contentLocation?.trim() || header(first.response.headers, 'location')?.trim();
    if (!location) throw new FhirHttpError(502, method, this.url(path), outcome('Response from server without Content-Location or Location header'));
    checkPollUrl(location);
    // As the reference: Accept FHIR only when polling a Location (a FHIR endpoint), anything at a Content-Location.
    const accept = contentLocation?.trim() ? '*/*' : this.mime();
    let delay = parseRetryAfter(header(first.response.headers, 'retry-after')) ?? strategy.firstDelayMs;
    for (;;) {
      await sleep(delay);
      const polled = await this.send('GET', location, undefined, { accept }, { okStatuses: [200, 202] });
      if (polled.response.status === 200) return unpackAsyncResult(polled, mode, 'GET', location);
      delay = parseRetryAfter(header(polled.response.headers, 'retry-after')) ?? strategy.nextDelayMs(delay);
    }
  }

  minimal(answer: Answer, what: string): WriteResult {
    const location = header(answer.response.headers, 'location') ?? header(answer.response.headers, 'content-location');
    if (!location) throw new Error(`${what} at ${this.baseUrl}: no Location in the response`);
    return { ...parseLocation(location), location };
  }

  // ---- transport ------------------------------------------------------------------------

  private mime(): string {
    return this.options.format === 'xml' ? XML_MIME : JSON_MIME;
  }

  private url(path: string): string {
    return /^https?:\/\//.test(path) ? path : path ? `${this.baseUrl}/${path}` : this.baseUrl;
  }

  private async send(method: string, path: string, body?: Resource, extraHeaders: Record<string, string> = {}, opts: { okStatuses?: number[] } = {}): Promise<Answer> {
    const url = this.url(path);
    const xml = this.options.format === 'xml';
    const observer = this.options.observer;
    const headers: Record<string, string> = { accept: this.mime(), ...(body && observer?.headers?.(method, this.baseUrl, body)), ...extraHeaders };
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = this.mime();
      payload = xml ? toFhirXml(body) : JSON.stringify(body);
    }
    const answer = this.retrying(method, () => this.attempt(method, url, headers, payload, opts.okStatuses));
    if (body && observer?.done) answer.then(() => observer.done!(method, this.baseUrl, body, undefined), (e: unknown) => observer.done!(method, this.baseUrl, body, e));
    return answer;
  }

  /**
   * Runs an attempt with this client's retries: server errors, and connection failures — of a
   * non-idempotent request (POST, PATCH) only those before it was written, since the server may have
   * stored one that failed later and a second attempt would make a duplicate.
   */
  private async retrying<T>(method: string, attempt: () => Promise<T>): Promise<T> {
    const maxRetries = this.options.maxRetries ?? 0;
    const strategy = this.options.retryDelay ?? DelayStrategies.doublingFrom(this.options.retryDelayMs ?? 1000);
    let delay = strategy.firstDelayMs;
    for (let attemptNo = 0; ; attemptNo++) {
      try {
        return await attempt();
      } catch (e) {
        const retryable =
          (e instanceof FhirConnectionError && (isIdempotent(method) || !e.requestSent)) || (e instanceof FhirHttpError && e.status >= 500 && e.status <= 599);
        if (!retryable || (maxRetries >= 0 && attemptNo >= maxRetries)) throw e;
        if (attemptNo > 0) delay = strategy.nextDelayMs(delay);
        await sleep(delay);
      }
    }
  }

  private async attempt(method: string, url: string, headers: Record<string, string>, payload: string | undefined, okStatuses?: number[]): Promise<Answer> {
    let response: HttpResponse;
    try {
      response = await this.options.http.request(url, { method, headers, body: payload, timeoutMs: this.options.readTimeoutMs, connectTimeoutMs: this.options.connectTimeoutMs });
    } catch (e) {
      throw new FhirConnectionError(method, url, (e as { code?: string }).code, e, !wasNotSent(e));
    }
    const resource = parseBody(response);
    const ok = okStatuses ? okStatuses.includes(response.status) : response.status < 400;
    if (!ok) throw new FhirHttpError(response.status, method, url, resource?.resourceType === 'OperationOutcome' ? (resource as OperationOutcome) : undefined);
    return { resource, response };
  }

  private async streamAttempt(method: string, url: string, opts: StreamRequestOptions, okStatuses: number[]): Promise<StreamedResponse> {
    let res: StreamedResponse;
    try {
      res = await this.options.http.stream(url, { method, timeoutMs: this.options.readTimeoutMs, connectTimeoutMs: this.options.connectTimeoutMs, ...opts });
    } catch (e) {
      throw new FhirConnectionError(method, url, (e as { code?: string }).code, e, !wasNotSent(e));
    }
    if (!okStatuses.includes(res.status)) {
      const answer = await this.toAnswer(res);
      throw new FhirHttpError(res.status, method, url, answer.resource?.resourceType === 'OperationOutcome' ? (answer.resource as OperationOutcome) : undefined);
    }
    return res;
  }

  private async toAnswer(res: StreamedResponse): Promise<Answer> {
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    const response: HttpResponse = { status: res.status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
    return { resource: parseBody(response), response };
  }
}

/** withMinimalReturn() / withOperationOutcomeReturn(): the writes of the base client in another return mode. */
class ReturnModeClient {
  constructor(
    private readonly base: HttpFhirClient,
    private readonly mode: 'minimal' | 'OperationOutcome',
  ) {}

  private result(answer: Answer, what: string): WriteResult | OperationOutcome {
    if (this.mode === 'minimal') return this.base.minimal(answer, what);
    if (answer.resource?.resourceType !== 'OperationOutcome') throw new Error(`${what} at ${this.base.baseUrl}: the server answered no OperationOutcome`);
    return answer.resource as OperationOutcome;
  }

  async create(resource: Resource) {
    return this.result(await this.base.write(this.mode, 'POST', resource.resourceType, resource), `POST ${resource.resourceType}`);
  }
  async createConditional(resource: Resource, ifNoneExistCriteria: string) {
    if (!ifNoneExistCriteria) throw new TypeError('ifNoneExistCriteria empty');
    return this.result(await this.base.write(this.mode, 'POST', resource.resourceType, resource, { 'if-none-exist': ifNoneExistCriteria }), `POST ${resource.resourceType}`);
  }
  async createBinary(content: BinaryContent, mediaType: string, securityContextReference?: string) {
    return this.result(await this.base.writeBinary(this.mode, 'POST', 'Binary', content, mediaType, securityContextReference), 'POST Binary');
  }
  async update(resource: Resource, options: UpdateOptions = {}) {
    return this.result(await this.base.write(this.mode, 'PUT', updatePath(resource), resource, updateIfMatch(resource, options)), `PUT ${resource.resourceType}`);
  }
  async updateConditional(resource: Resource, criteria: SearchParams) {
    return this.result(await this.base.write(this.mode, 'PUT', conditionalPath(resource, criteria), resource), `PUT ${resource.resourceType}`);
  }
  async updateBinary(id: string, content: BinaryContent, mediaType: string, securityContextReference?: string) {
    return this.result(await this.base.writeBinary(this.mode, 'PUT', `Binary/${encodeURIComponent(id)}`, content, mediaType, securityContextReference), 'PUT Binary');
  }
  async postBundle(bundle: Bundle): Promise<Bundle> {
    return (await this.base.write(this.mode, 'POST', '', bundle)).resource as Bundle;
  }
  async operation(name: string, parameters?: Parameters, target?: OperationTarget) {
    return this.result(await this.base.write(this.mode, 'POST', operationPath(name, target), parameters), `POST ${operationPath(name, target)}`);
  }
  async operationAsync(name: string, parameters?: Parameters, target?: OperationTarget, options?: AsyncOptions) {
    const answer = await this.base.async('POST', operationPath(name, target), parameters, 'respond-async', this.mode, options);
    return this.result(answer, `POST ${operationPath(name, target)}`);
  }
  withRetry(maxRetries: number, delay: number | DelayStrategy) {
    return new ReturnModeClient(this.base.withRetry(maxRetries, delay) as HttpFhirClient, this.mode);
  }
  withRetryForever(delay: number | DelayStrategy) {
    return new ReturnModeClient(this.base.withRetryForever(delay) as HttpFhirClient, this.mode);
  }
}

function retryDelayOptions(delay: number | DelayStrategy): Pick<HttpFhirClientOptions, 'retryDelay' | 'retryDelayMs'> {
  if (typeof delay === 'number') return { retryDelay: DelayStrategies.doublingFrom(delay), retryDelayMs: delay };
  if (!delay || typeof delay.nextDelayMs !== 'function') throw new TypeError('delay strategy missing');
  return { retryDelay: delay };
}

function updatePath(resource: Resource): string {
  if (!resource.id) throw new TypeError(`update of a ${resource.resourceType} without id`);
  return `${resource.resourceType}/${encodeURIComponent(resource.id)}`;
}

function conditionalPath(resource: Resource, criteria: SearchParams): string {
  const q = searchQuery(criteria);
  if (!q) throw new TypeError('criteria empty');
  return `${resource.resourceType}?${q}`;
}

/** The reference's client sends If-Match with the resource's own version unless told otherwise. */
function updateIfMatch(resource: Resource, options: UpdateOptions): Record<string, string> {
  if (options.ifMatch === false) return {};
  return ifMatch(options.ifMatch ?? resource.meta?.versionId);
}

function ifMatch(versionId: string | undefined): Record<string, string> {
  return versionId ? { 'if-match': `W/"${versionId}"` } : {};
}

function operationPath(name: string, target: OperationTarget = {}): string {
  if (!name) throw new TypeError('operation name empty');
  const op = name.startsWith('$') ? name : `$${name}`;
  if ((target.id || target.version) && !target.type) throw new TypeError('an operation on an instance needs its type');
  if (target.version && !target.id) throw new TypeError('an operation on a version needs the id');
  const parts = [target.type, target.id && encodeURIComponent(target.id), target.version && `_history/${encodeURIComponent(target.version)}`, op].filter(Boolean);
  return parts.join('/');
}

/** The Location of a 202 must be an absolute http(s) URL (the reference's checkUri). */
function checkPollUrl(location: string): void {
  let u: URL;
  try {
    u = new URL(location);
  } catch {
    throw new FhirHttpError(502, 'GET', location, outcome(`Location '${location}' of the asynchronous response is not an absolute URL`));
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new FhirHttpError(502, 'GET', location, outcome(`Location '${location}' is no http(s) URL`));
}

/**
 * The final answer of an asynchronous request is a batch-response with one entry (FHIR's async
 * pattern): its status decides, its resource / location / outcome is the result. Any other resource
 * is taken as the result itself.
 */
function unpackAsyncResult(polled: Answer, mode: ReturnMode, method: string, url: string): Answer {
  const bundle = polled.resource as Bundle | undefined;
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'batch-response') return polled;
  if (bundle.entry?.length !== 1) throw new FhirHttpError(502, method, url, outcome(`asynchronous result has ${bundle.entry?.length ?? 0} entries, expected 1`));
  const entry = bundle.entry[0]!;
  const status = entry.response?.status ?? '';
  const code = Number(/^([1-5]\d\d)(?: |$)/.exec(status)?.[1] ?? NaN);
  if (!Number.isFinite(code)) throw new FhirHttpError(502, method, url, outcome(`asynchronous result has an unknown entry status '${status}'`));
  if (code >= 300) throw new FhirHttpError(code, method, url, entry.response?.outcome as OperationOutcome | undefined);
  if (mode === 'minimal') {
    const location = entry.response?.location;
    if (!location) throw new FhirHttpError(502, method, url, outcome('asynchronous result without Bundle.entry[0].response.location'));
    return { resource: undefined, response: { ...polled.response, headers: { ...polled.response.headers, location, 'content-location': undefined } } };
  }
  if (mode === 'OperationOutcome') {
    if (entry.response?.outcome?.resourceType !== 'OperationOutcome') throw new FhirHttpError(502, method, url, outcome('asynchronous result without Bundle.entry[0].response.outcome'));
    return { resource: entry.response.outcome, response: polled.response };
  }
  if (!entry.resource) throw new FhirHttpError(502, method, url, outcome('asynchronous result without Bundle.entry[0].resource'));
  return { resource: entry.resource, response: polled.response };
}

function outcome(diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics }] };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseBody(r: HttpResponse): Resource | undefined {
  if (!r.body) return undefined;
  const type = header(r.headers, 'content-type') ?? '';
  try {
    if (/xml/i.test(type) || r.body.trimStart().startsWith('<')) return parseFhirXml(r.body);
    return JSON.parse(r.body) as Resource;
  } catch {
    return undefined; // an error page that is no FHIR resource: the status tells enough
  }
}
