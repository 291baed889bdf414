// The plugin API's MimeTypeService (reference: dev.dsf.bpe.v2.service.MimeTypeServiceImpl).
import type { Readable } from 'node:stream';
import { MimeTypeMismatchError, type MimeTypeInput, type MimeTypeService, type MimeTypeValidationResult } from '../../../plugin-api/services/mime-type.ts';
import { detect, PREFIX_LENGTH } from './detector.ts';
import { parseMediaType } from './media-types.ts';

function result(prefix: Buffer, declared: string): MimeTypeValidationResult {
  const parsed = parseMediaType(declared);
  if (!parsed) throw new TypeError(`declared MIME type "${declared}" is not of the form type/subtype`);
  const detected = parseMediaType(detect(prefix, parsed.full))!;
  const r = {
    declaredBaseType: parsed.type,
    declaredSubType: parsed.subtype,
    detectedBaseType: detected.type,
    detectedSubType: detected.subtype,
    declared: () => `${r.declaredBaseType}/${r.declaredSubType}`,
    detected: () => `${r.detectedBaseType}/${r.detectedSubType}`,
    mimeTypesMatch: () => r.declared() === r.detected(),
  };
  return r;
}

/** The first 64 KiB of a stream; the rest stays unread. */
async function prefixOf(data: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of data as AsyncIterable<Uint8Array>) {
    const buffer = Buffer.from(chunk);
    chunks.push(buffer);
    length += buffer.length;
    if (length >= PREFIX_LENGTH) break;
  }
  return Buffer.concat(chunks).subarray(0, PREFIX_LENGTH);
}

export interface MimeTypeServiceOptions {
  /** Where the warning about differing full types goes (the reference logs it). */
  warn?: (message: string) => void;
}

export function createMimeTypeService(options: MimeTypeServiceOptions = {}): MimeTypeService {
  const warn = options.warn ?? ((message: string) => console.warn(message));

  const check = (r: MimeTypeValidationResult): void => {
    if (!r.mimeTypesMatch()) warn(`Declared full MIME type ${r.declared()} does not match detected full MIME type ${r.detected()}`);
    if (r.declaredBaseType !== r.detectedBaseType) {
      throw new MimeTypeMismatchError(`Declared base MIME type of '${r.declared()}' does not match detected base MIME type of '${r.detected()}'`);
    }
  };

  function validateWithResult(data: Uint8Array, declared: string): MimeTypeValidationResult;
  function validateWithResult(data: Readable | AsyncIterable<Uint8Array>, declared: string): Promise<MimeTypeValidationResult>;
  function validateWithResult(data: MimeTypeInput, declared: string): MimeTypeValidationResult | Promise<MimeTypeValidationResult> {
    if (data instanceof Uint8Array) return result(Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, PREFIX_LENGTH)), declared);
    return prefixOf(data).then((prefix) => result(prefix, declared));
  }
  function validateWithBoolean(data: Uint8Array, declared: string): boolean;
  function validateWithBoolean(data: Readable | AsyncIterable<Uint8Array>, declared: string): Promise<boolean>;
  function validateWithBoolean(data: MimeTypeInput, declared: string): boolean | Promise<boolean> {
    if (data instanceof Uint8Array) return validateWithResult(data, declared).mimeTypesMatch();
    return validateWithResult(data, declared).then((r) => r.mimeTypesMatch());
  }
  function validateWithException(data: Uint8Array, declared: string): void;
  function validateWithException(data: Readable | AsyncIterable<Uint8Array>, declared: string): Promise<void>;
  function validateWithException(data: MimeTypeInput, declared: string): void | Promise<void> {
    if (data instanceof Uint8Array) return check(validateWithResult(data, declared));
    return validateWithResult(data, declared).then(check);
  }
  return { validateWithResult, validateWithBoolean, validateWithException };
}
