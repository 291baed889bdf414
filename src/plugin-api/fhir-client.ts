// What plugins see of a FHIR server: a typed client (the reference's DsfClient, BasicDsfClient,
// AsyncDsfClient and their return-mode and retry variants) and the errors it throws. A refusal by the
// server (HTTP status) and a server that cannot be reached are different errors, so a process can
// tell "not allowed" from "not reachable".
import type { Readable } from 'node:stream';
import type { Binary, Bundle, CapabilityStatement, OperationOutcome, Parameters, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { DelayStrategy } from './delay-strategy.ts';

export type SearchParams = Record<string, string | number | boolean | ReadonlyArray<string | number>> | URLSearchParams;

/** The outcome of a write with `Prefer: return=minimal` (reference: the IdType of the Location header). */
export interface WriteResult {
  /** Logical id of the written resource. */
  id: string;
  versionId?: string;
  /** The Location header (absolute URL with _history). */
  location: string;
}

/** Content-Range of a partial Binary read: bytes start-end/size (end inclusive). */
export interface ByteRange {
  readonly size: number;
  readonly start: number;
  readonly end: number;
}

/** The content of a Binary read with a non-FHIR media type (reference: BinaryInputStream). */
export interface BinaryInputStream {
  /** Content-Length of this response (the range's length for a partial read). */
  readonly contentLength: number;
  readonly contentType: string | undefined;
  /** Set for a `206 Partial Content` answer. */
  readonly range: ByteRange | undefined;
  /** The bytes, unread (read it or call readAll, not both). */
  readonly body: Readable;
  readAll(): Promise<Buffer>;
}

export interface ReadBinaryOptions {
  /** vread of this version. */
  version?: string;
  /** First byte (0-based); alone: to the end. */
  rangeStart?: number;
  /** Last byte, inclusive (must be > rangeStart); alone and negative: the last -n bytes. */
  rangeEndInclusive?: number;
  /** Further request headers. */
  headers?: Record<string, string>;
}

/** Bytes of a Binary upload: in memory or a stream (sent with back-pressure). */
export type BinaryContent = Uint8Array | Readable;

export interface HistoryOptions {
  /** History of one type (and, with id, of one resource); neither: the whole system. */
  type?: string;
  id?: string;
  page?: number;
  count?: number;
}

/** Where an operation is invoked: on the server, a type, an instance, or one version of it. */
export interface OperationTarget {
  type?: string;
  id?: string;
  version?: string;
}

export interface AsyncOptions {
  /** How long to wait between polls when the server gives no Retry-After (default TRUNCATED_EXPONENTIAL_BACKOFF). */
  delayStrategy?: DelayStrategy;
}

/**
 * Writes answering with `Prefer: return=minimal` (reference: PreferReturnMinimal): id, version and
 * location of what was written, from the Location header.
 */
/**
 * The version check of an update. By default, as the reference's client, the update only succeeds on
 * the version the resource says it is (`If-Match` with `meta.versionId`; 412 otherwise); `ifMatch`
 * names another version id, `false` updates whatever version is current.
 */
export interface UpdateOptions {
  ifMatch?: string | false;
}

export interface MinimalReturnClient {
  create(resource: Resource): Promise<WriteResult>;
  createConditional(resource: Resource, ifNoneExistCriteria: string): Promise<WriteResult>;
  createBinary(content: BinaryContent, mediaType: string, securityContextReference?: string): Promise<WriteResult>;
  update(resource: Resource, options?: UpdateOptions): Promise<WriteResult>;
  updateConditional(resource: Resource, criteria: SearchParams): Promise<WriteResult>;
  updateBinary(id: string, content: BinaryContent, mediaType: string, securityContextReference?: string): Promise<WriteResult>;
  postBundle(bundle: Bundle): Promise<Bundle>;
  operation(name: string, parameters?: Parameters, target?: OperationTarget): Promise<WriteResult>;
  operationAsync(name: string, parameters?: Parameters, target?: OperationTarget, options?: AsyncOptions): Promise<WriteResult>;
  withRetry(maxRetries: number, delay: number | DelayStrategy): MinimalReturnClient;
  withRetryForever(delay: number | DelayStrategy): MinimalReturnClient;
}

/**
 * Writes answering with `Prefer: return=OperationOutcome` (reference: PreferReturnOutcome): the
 * server's OperationOutcome about the write instead of the resource.
 */
export interface OperationOutcomeReturnClient {
  create(resource: Resource): Promise<OperationOutcome>;
  createConditional(resource: Resource, ifNoneExistCriteria: string): Promise<OperationOutcome>;
  createBinary(content: BinaryContent, mediaType: string, securityContextReference?: string): Promise<OperationOutcome>;
  update(resource: Resource, options?: UpdateOptions): Promise<OperationOutcome>;
  updateConditional(resource: Resource, criteria: SearchParams): Promise<OperationOutcome>;
  updateBinary(id: string, content: BinaryContent, mediaType: string, securityContextReference?: string): Promise<OperationOutcome>;
  postBundle(bundle: Bundle): Promise<Bundle>;
  operation(name: string, parameters?: Parameters, target?: OperationTarget): Promise<OperationOutcome>;
  operationAsync(name: string, parameters?: Parameters, target?: OperationTarget, options?: AsyncOptions): Promise<OperationOutcome>;
  withRetry(maxRetries: number, delay: number | DelayStrategy): OperationOutcomeReturnClient;
  withRetryForever(delay: number | DelayStrategy): OperationOutcomeReturnClient;
}

export interface FhirClient {
  /** Base URL, e.g. https://dsf.example.org/fhir */
  readonly baseUrl: string;
  read<R extends Resource = Resource>(type: R['resourceType'], id: string): Promise<R>;
  vread<R extends Resource = Resource>(type: R['resourceType'], id: string, versionId: string): Promise<R>;
  /**
   * Reads the current version of a resource the caller holds, sending If-None-Match (its version) and
   * If-Modified-Since (its lastUpdated): the old value when the server answers 304 Not Modified.
   */
  readIfChanged<R extends Resource>(old: R): Promise<R>;
  /** HEAD: true for 200, false for 404, an error otherwise. */
  exists(type: string, id: string, versionId?: string): Promise<boolean>;
  /** The content of a Binary in its own media type (not FHIR), optionally a byte range of it. */
  readBinary(id: string, mediaType: string, options?: ReadBinaryOptions): Promise<BinaryInputStream>;
  /** One page of results (a searchset Bundle). */
  search(type: string, params?: SearchParams): Promise<Bundle>;
  /** As search, with `Prefer: handling=strict`: unknown or unsupported parameters are an error (400). */
  searchWithStrictHandling(type: string, params?: SearchParams): Promise<Bundle>;
  /** Every resource of `type` matching the search, following next links. */
  searchAll<R extends Resource = Resource>(type: R['resourceType'], params?: SearchParams): Promise<R[]>;
  /**
   * A search with `Prefer: respond-async`: a `202 Accepted` answer is polled at its Content-Location
   * (or Location) until the result is there, honouring Retry-After (seconds or an HTTP date), else the
   * delay strategy; the result is entry 0 of the batch-response the server finally answers (or the
   * searchset itself when the server answers at once). `urlOrType` is a type or an absolute URL.
   */
  searchAsync(urlOrType: string, params?: SearchParams, options?: AsyncOptions): Promise<Bundle>;
  searchAsyncWithStrictHandling(urlOrType: string, params?: SearchParams, options?: AsyncOptions): Promise<Bundle>;
  /** GET /metadata */
  getConformance(): Promise<CapabilityStatement>;
  /** StructureDefinition/$snapshot of a stored profile (by url) or of a differential given here. */
  generateSnapshot(urlOrDifferential: string | StructureDefinition): Promise<StructureDefinition>;
  /** _history of the system, a type, or one resource (options.type / options.id), with _page and _count. */
  history(options?: HistoryOptions): Promise<Bundle>;
  /** Creates a resource and returns what the server stored. */
  create<R extends Resource>(resource: R, options?: { ifNoneExist?: string }): Promise<R>;
  /** Conditional create (If-None-Exist): the existing resource when the criteria match one. */
  createConditional<R extends Resource>(resource: R, ifNoneExistCriteria: string): Promise<R>;
  /** Creates a resource with `Prefer: return=minimal`. */
  createMinimal(resource: Resource, options?: { ifNoneExist?: string }): Promise<WriteResult>;
  /** POST Binary with the raw content, its media type and the X-Security-Context (who may read it). */
  createBinary(content: BinaryContent, mediaType: string, securityContextReference?: string): Promise<Binary>;
  /** Updates by id (resource.id required); see UpdateOptions for the version check. */
  update<R extends Resource>(resource: R, options?: UpdateOptions): Promise<R>;
  /** Conditional update: PUT Type?criteria */
  updateConditional<R extends Resource>(resource: R, criteria: SearchParams): Promise<R>;
  updateBinary(id: string, content: BinaryContent, mediaType: string, securityContextReference?: string): Promise<Binary>;
  delete(type: string, id: string): Promise<void>;
  deleteConditional(type: string, criteria: SearchParams): Promise<void>;
  /** POST Type/id/$permanent-delete: removes every version of a deleted resource. */
  deletePermanently(type: string, id: string): Promise<void>;
  /** POSTs a batch or transaction Bundle; returns the response Bundle. */
  postBundle(bundle: Bundle, options?: { returnMinimal?: boolean }): Promise<Bundle>;
  /** POST [type/[id/[_history/version/]]]$name with the Parameters (or none); the resource it answers. */
  operation<R extends Resource = Resource>(name: string, parameters?: Parameters, target?: OperationTarget): Promise<R>;
  /** As operation, with `Prefer: respond-async` and polling as searchAsync. */
  operationAsync<R extends Resource = Resource>(name: string, parameters?: Parameters, target?: OperationTarget, options?: AsyncOptions): Promise<R>;
  /** The same client, writing with `Prefer: return=minimal`. */
  withMinimalReturn(): MinimalReturnClient;
  /** The same client, writing with `Prefer: return=OperationOutcome`. */
  withOperationOutcomeReturn(): OperationOutcomeReturnClient;
  /**
   * The same client, trying again after a server error (5xx) or a connection failure: up to
   * maxRetries more times, waiting `delay` (milliseconds, doubling to eight times it) or as the
   * DelayStrategy says. Other errors are thrown at once. A connection failure of a request that is not
   * idempotent (POST: create, transaction/batch, operations; PATCH) is retried only when the request
   * provably never reached the server (refused, unknown host, connect timeout, TLS handshake failure;
   * `FhirConnectionError.requestSent` false): after a reset or read timeout the server may have stored
   * it, and sending it again could create a duplicate. GET, HEAD, PUT and DELETE retry on any
   * connection failure.
   */
  withRetry(maxRetries: number, delay: number | DelayStrategy): FhirClient;
  withRetryForever(delay: number | DelayStrategy): FhirClient;
  /** The same client, sending and receiving FHIR XML instead of JSON. */
  withXml(): FhirClient;
}

/** The reference's name of the client (DsfClient): the same contract. */
export type DsfClient = FhirClient;

/** Base class of the errors a FhirClient throws. */
export class FhirClientError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FhirClientError';
  }
}

/** The server answered with an error status (4xx, 5xx). */
export class FhirHttpError extends FhirClientError {
  readonly kind = 'http' as const;
  constructor(
    readonly status: number,
    method: string,
    url: string,
    readonly outcome?: OperationOutcome,
  ) {
    const text = outcome?.issue?.map((i) => i.diagnostics ?? i.details?.text ?? i.code).filter(Boolean).join('; ');
    super(`${method} ${url}: HTTP ${status}${text ? ` - ${text}` : ''}`, method, url);
    this.name = 'FhirHttpError';
  }
}

/** The server could not be reached: connection refused or reset, unknown host, TLS failure, timeout. */
export class FhirConnectionError extends FhirClientError {
  readonly kind = 'connection' as const;
  constructor(
    method: string,
    url: string,
    readonly code: string | undefined,
    cause: unknown,
    /**
     * false only when the request provably never left this side (connection refused, unknown host,
     * connect timeout, TLS handshake failure): the server cannot have acted on it. true when the
     * connection failed after the request was written (reset, read timeout): it may have been processed.
     */
    readonly requestSent: boolean = true,
  ) {
    super(`${method} ${url}: not reachable (${code ?? (cause as Error)?.message ?? 'error'})`, method, url, { cause });
    this.name = 'FhirConnectionError';
  }
}

/** True when the server refused the request with 403 Forbidden. */
export function isNotAllowed(error: unknown): boolean {
  return error instanceof FhirHttpError ? error.status === 403 : (error as { kind?: string; status?: number })?.kind === 'http' && (error as { status?: number }).status === 403;
}

/** True when the server could not be reached at all. */
export function isNotReachable(error: unknown): boolean {
  return error instanceof FhirConnectionError || (error as { kind?: string })?.kind === 'connection';
}
