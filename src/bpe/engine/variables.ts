// Typed process variables as stored in bpmn_variable: a type tag, the JSON value, and a text form of
// scalars for indexed lookups (correlation by variable). FHIR resources keep their own tag so callers
// can tell them from plain JSON.

export type VariableType = 'null' | 'string' | 'boolean' | 'number' | 'date' | 'bytes' | 'json' | 'fhir';

export interface StoredVariable {
  type: VariableType;
  value: unknown;
  textValue: string | null;
}

export function isFhirResource(value: unknown): value is { resourceType: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { resourceType?: unknown }).resourceType === 'string'
  );
}

export function serializeVariable(name: string, value: unknown): StoredVariable {
  if (value === null || value === undefined) return { type: 'null', value: null, textValue: null };
  switch (typeof value) {
    case 'string':
      return { type: 'string', value, textValue: value };
    case 'boolean':
      return { type: 'boolean', value, textValue: String(value) };
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`variable ${name}: ${value} cannot be stored`);
      return { type: 'number', value, textValue: String(value) };
    case 'object':
      break;
    default:
      throw new TypeError(`variable ${name}: values of type ${typeof value} cannot be stored`);
  }
  if (value instanceof Date) return { type: 'date', value: value.toISOString(), textValue: value.toISOString() };
  if (value instanceof Uint8Array) return { type: 'bytes', value: Buffer.from(value).toString('base64'), textValue: null };
  // Round-trip through JSON so what is stored is exactly what a later read returns.
  const json = JSON.parse(JSON.stringify(value)) as unknown;
  return { type: isFhirResource(value) ? 'fhir' : 'json', value: json, textValue: null };
}

export function deserializeVariable(type: string, value: unknown): unknown {
  switch (type) {
    case 'null':
      return null;
    case 'date':
      return new Date(value as string);
    case 'bytes':
      return new Uint8Array(Buffer.from(value as string, 'base64'));
    default:
      return value;
  }
}

/** Makes an independent copy, so state held by the engine cannot be changed behind its back. */
export function copyValue<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  return structuredClone(value);
}
