// What plugins see of a FHIR server: a typed client (the reference's DsfClient) and the errors it
// throws. A refusal by the server (HTTP status) and a server that cannot be reached are different
// errors, so a process can tell "not allowed" from "not reachable".
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';

export type SearchParams = Record<string, string | number | boolean | ReadonlyArray<string | number>> | URLSearchParams;

/** The outcome of a create or update with `Prefer: return=minimal`. */
export interface WriteResult {
  /** Logical id of the written resource. */
  id: string;
  versionId?: string;
  /** The Location header (absolute URL with _history). */
  location: string;
}

export interface FhirClient {
  /** Base URL, e.g. https://dsf.example.org/fhir */
  readonly baseUrl: string;
  read<R extends Resource = Resource>(type: R['resourceType'], id: string): Promise<R>;
  vread<R extends Resource = Resource>(type: R['resourceType'], id: string, versionId: string): Promise<R>;
  /** One page of results (a searchset Bundle). */
  search(type: string, params?: SearchParams): Promise<Bundle>;
  /** Every resource of `type` matching the search, following next links. */
  searchAll<R extends Resource = Resource>(type: R['resourceType'], params?: SearchParams): Promise<R[]>;
  /** Creates a resource and returns what the server stored. */
  create<R extends Resource>(resource: R, options?: { ifNoneExist?: string }): Promise<R>;
  /** Creates a resource with `Prefer: return=minimal`. */
  createMinimal(resource: Resource, options?: { ifNoneExist?: string }): Promise<WriteResult>;
  /** Updates by id (resource.id required); ifMatch is a version id. */
  update<R extends Resource>(resource: R, options?: { ifMatch?: string }): Promise<R>;
  /** Conditional update: PUT Type?criteria */
  updateConditional<R extends Resource>(resource: R, criteria: SearchParams): Promise<R>;
  delete(type: string, id: string): Promise<void>;
  deleteConditional(type: string, criteria: SearchParams): Promise<void>;
  /** POSTs a batch or transaction Bundle; returns the response Bundle. */
  postBundle(bundle: Bundle, options?: { returnMinimal?: boolean }): Promise<Bundle>;
  /** The same client, retrying requests that could not reach the server (or got 502/503/504). */
  withRetry(maxRetries: number, delayMs: number): FhirClient;
  withRetryForever(delayMs: number): FhirClient;
  /** The same client, sending and receiving FHIR XML instead of JSON. */
  withXml(): FhirClient;
}

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
