// What a process plugin gets as `api.mimeTypeService`: the reference's process plugin API v2
// MimeTypeService (dev.dsf.bpe.v2.service.MimeTypeService), which detects with Apache Tika
// (tika-core) plus an NDJSON detector.
import type { Readable } from 'node:stream';

export interface MimeTypeValidationResult {
  declaredBaseType: string;
  declaredSubType: string;
  detectedBaseType: string;
  detectedSubType: string;
  /** `base/sub` as declared. */
  declared(): string;
  /** `base/sub` as detected. */
  detected(): string;
  /** declared() === detected() */
  mimeTypesMatch(): boolean;
}

export type MimeTypeInput = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface MimeTypeService {
  /** Detects the type of the data, using the declared type as a hint as Tika does (text/csv, application/json cannot be told apart from text otherwise). Streams: only the first 64 KiB are read (and consumed). */
  validateWithResult(data: Uint8Array, declared: string): MimeTypeValidationResult;
  validateWithResult(data: Readable | AsyncIterable<Uint8Array>, declared: string): Promise<MimeTypeValidationResult>;
  /** True when the full detected type equals the declared one. */
  validateWithBoolean(data: Uint8Array, declared: string): boolean;
  validateWithBoolean(data: Readable | AsyncIterable<Uint8Array>, declared: string): Promise<boolean>;
  /** Logs a warning when the full types differ; throws `MimeTypeMismatchError` when the base types (before the slash) differ. */
  validateWithException(data: Uint8Array, declared: string): void;
  validateWithException(data: Readable | AsyncIterable<Uint8Array>, declared: string): Promise<void>;
}

export class MimeTypeMismatchError extends Error {
  override readonly name = 'MimeTypeMismatchError';
}
