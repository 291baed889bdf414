// FHIR JSON input: parsing with FHIR errors, and a structural check of a resource against the type model
// (known properties, array or single value, JSON kinds of primitives, aligned '_name' shadows).
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { isIntegerType, isResourceType, jsonPrimitiveKind, typeInfo, type ElementInfo, type TypeInfo } from './type-model.ts';

type JsonObject = Record<string, unknown>;

/** Parses FHIR JSON text; throws FhirError(400) for malformed JSON, a non-object, or a missing or unknown resourceType. */
export function parseFhirJson(text: string): Resource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FhirError(400, `Malformed JSON: ${(e as Error).message}`, 'structure');
  }
  if (!isObject(value)) throw new FhirError(400, 'The JSON body must be an object holding a FHIR resource', 'structure');
  const rt = value.resourceType;
  if (typeof rt !== 'string' || !rt) throw new FhirError(400, 'The JSON resource has no resourceType', 'structure');
  if (!isResourceType(rt)) throw new FhirError(400, `'${rt}' is not a FHIR resource type`, 'structure');
  return value as unknown as Resource;
}

/**
 * Reports properties the FHIR definitions do not know, arrays where a single value belongs and the
 * reverse, primitives of the wrong JSON kind, empty objects and arrays, nulls, misaligned '_name'
 * shadows and competing choice variants. Each issue names its location in `expression`.
 */
export function checkJsonShape(resource: Resource | JsonObject): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const rt = (resource as JsonObject).resourceType;
  if (typeof rt !== 'string' || !isResourceType(rt)) {
    issues.push(issue(`'${String(rt)}' is not a FHIR resource type`, 'resourceType'));
    return issues;
  }
  checkObject(resource as JsonObject, typeInfo(rt)!, rt, issues);
  return issues;
}

function checkObject(obj: JsonObject, type: TypeInfo, path: string, issues: OperationOutcomeIssue[]): void {
  let empty = true;
  const choices = new Map<string, string>();
  for (const key of Object.keys(obj)) {
    empty = false;
    if (key === 'resourceType' && type.kind === 'resource') continue;
    const isShadow = key.startsWith('_');
    const name = isShadow ? key.slice(1) : key;
    const el = type.byName.get(name);
    if (!el || (isShadow && !el.primitive)) {
      issues.push(issue(`Unknown property '${key}' in ${type.name}`, `${path}.${key}`));
      continue;
    }
    if (el.choiceOf) {
      const other = choices.get(el.choiceOf);
      if (other && other !== name) issues.push(issue(`Only one of ${el.choiceOf}[x] may be given, found ${other} and ${name}`, `${path}.${name}`));
      choices.set(el.choiceOf, name);
    }
    if (isShadow) {
      if (obj[name] === undefined) checkPrimitive(el, undefined, obj[key], `${path}.${name}`, issues);
      continue;
    }
    if (el.primitive) checkPrimitive(el, obj[key], obj['_' + name], `${path}.${name}`, issues);
    else checkComplex(el, obj[key], `${path}.${name}`, issues);
  }
  if (empty) issues.push(issue(`An object of type ${type.name} must not be empty`, path));
}

function checkComplex(el: ElementInfo, value: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  const items = arrayShape(el, value, path, issues);
  if (!items) return;
  items.forEach((item, i) => {
    const here = el.array ? `${path}[${i}]` : path;
    if (item === null) return; // reported by arrayShape
    if (el.type === 'xhtml') {
      if (typeof item !== 'string') issues.push(issue('XHTML narrative must be a string', here));
      return;
    }
    if (!isObject(item)) {
      issues.push(issue(`Expected an object of type ${el.type}`, here));
      return;
    }
    if (el.resource) {
      const rt = item.resourceType;
      if (typeof rt !== 'string' || !isResourceType(rt)) issues.push(issue(`'${String(rt)}' is not a FHIR resource type`, `${here}.resourceType`));
      else checkObject(item, typeInfo(rt)!, here, issues);
      return;
    }
    const type = typeInfo(el.type);
    if (type) checkObject(item, type, here, issues);
  });
}

function checkPrimitive(el: ElementInfo, value: unknown, shadow: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  const values = value === undefined ? undefined : arrayShape(el, value, path, issues, true);
  const shadows = shadow === undefined ? undefined : arrayShape(el, shadow, path, issues, true);
  if (values === null || shadows === null) return;
  if (el.array && values && shadows && values.length !== shadows.length) {
    issues.push(issue(`'${el.name}' and '_${el.name}' must have the same length`, path));
  }
  const n = Math.max(values?.length ?? 0, shadows?.length ?? 0);
  for (let i = 0; i < n; i++) {
    const here = el.array ? `${path}[${i}]` : path;
    const v = values?.[i] ?? null;
    const s = shadows?.[i] ?? null;
    if (v === null && s === null) {
      issues.push(issue(`'${el.name}' has neither a value nor extensions`, here));
      continue;
    }
    if (v !== null) checkPrimitiveValue(el.type, v, here, issues);
    if (s !== null) {
      if (!isObject(s)) issues.push(issue(`'_${el.name}' must hold objects`, here));
      else checkObject(s, typeInfo('Element')!, here, issues);
    }
  }
}

function checkPrimitiveValue(type: string, v: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  const kind = jsonPrimitiveKind(type);
  if (typeof v !== kind) issues.push(issue(`A ${type} must be a JSON ${kind}, found ${Array.isArray(v) ? 'array' : typeof v}`, path));
  else if (kind === 'number' && isIntegerType(type) && !Number.isInteger(v)) issues.push(issue(`A ${type} must be a whole number`, path));
  else if (kind === 'string' && v === '') issues.push(issue(`A ${type} must not be empty`, path));
}

/** The items of a value as the element's cardinality demands, or null (with an issue) if the shape is wrong. */
function arrayShape(el: ElementInfo, value: unknown, path: string, issues: OperationOutcomeIssue[], nullsAllowed = false): unknown[] | null {
  if (el.array) {
    if (!Array.isArray(value)) {
      issues.push(issue(`'${el.name}' must be an array`, path));
      return null;
    }
    if (!value.length) issues.push(issue(`'${el.name}' must not be an empty array`, path));
    if (!nullsAllowed) {
      value.forEach((v, i) => {
        if (v === null) issues.push(issue(`'${el.name}' must not contain null`, `${path}[${i}]`));
      });
    }
    return value;
  }
  if (Array.isArray(value)) {
    issues.push(issue(`'${el.name}' must not be an array`, path));
    return null;
  }
  if (value === null) {
    issues.push(issue(`'${el.name}' must not be null`, path));
    return null;
  }
  return [value];
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function issue(diagnostics: string, expression: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'structure', diagnostics, expression: [expression] };
}
