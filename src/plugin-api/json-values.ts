// JSON with the two value types plain JSON loses: Date and Uint8Array become tagged objects
// ({"@dsf:date": ISO-8601}, {"@dsf:bytes": base64}) and come back as Date and Uint8Array. Used for
// JSON process variables and the API's JSON mapper (the reference's Jackson ObjectMapper).

const DATE_TAG = '@dsf:date';
const BYTES_TAG = '@dsf:bytes';
const MAX_DEPTH = 256;

/** A JSON value in which Dates and byte arrays are tagged objects. */
export function encodeJsonValue(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new RangeError('JSON value nested too deeply');
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RangeError('invalid Date in JSON value');
    return { [DATE_TAG]: value.toISOString() };
  }
  if (value instanceof Uint8Array) return { [BYTES_TAG]: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : encodeJsonValue(v, depth + 1)));
  if (value !== null && typeof value === 'object') {
    const json = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') return encodeJsonValue(json.call(value), depth + 1);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== 'function') out[k] = encodeJsonValue(v, depth + 1);
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError(`${value} cannot be stored as JSON`);
  if (typeof value === 'bigint') throw new TypeError('bigint values cannot be stored as JSON');
  return value;
}

/** The value with tagged Dates and byte arrays turned back into Date and Uint8Array. */
export function decodeJsonValue<T = unknown>(value: unknown, depth = 0): T {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value as T;
  if (Array.isArray(value)) return value.map((v) => decodeJsonValue(v, depth + 1)) as T;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === DATE_TAG && typeof (value as Record<string, unknown>)[DATE_TAG] === 'string') return new Date((value as Record<string, string>)[DATE_TAG]!) as T;
  if (keys.length === 1 && keys[0] === BYTES_TAG && typeof (value as Record<string, unknown>)[BYTES_TAG] === 'string') return new Uint8Array(Buffer.from((value as Record<string, string>)[BYTES_TAG]!, 'base64')) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = decodeJsonValue(v, depth + 1);
  return out as T;
}

/** JSON text of a value, keeping Dates and byte arrays (the reference's ObjectMapper). */
export interface JsonMapper {
  writeValueAsString(value: unknown): string;
  readValue<T = unknown>(json: string): T;
}

export const jsonMapper: JsonMapper = Object.freeze({
  writeValueAsString: (value: unknown) => JSON.stringify(encodeJsonValue(value)),
  readValue: <T = unknown>(json: string) => decodeJsonValue<T>(JSON.parse(json)),
});
