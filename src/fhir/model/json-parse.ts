// FHIR JSON input: parsing with FHIR errors, and a structural check of a resource against the type model
// (known properties, array or single value, JSON kinds of primitives, aligned '_name' shadows).
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { isIntegerType, isResourceType, jsonPrimitiveKind, typeInfo, type ElementInfo, type TypeInfo } from './type-model.ts';
import { FORBIDDEN_CHARACTER_RULE, forbiddenCharacter, hasForbiddenCharacter, jsonTextMayHoldForbidden } from './fhir-characters.ts';
import { MAX_JSON_DEPTH } from './nesting-limits.ts';

type JsonObject = Record<string, unknown>;


/**
 * Parses FHIR JSON text; throws FhirError(400) for malformed JSON, nesting deeper than MAX_JSON_DEPTH,
 * characters FHIR text may not hold, numbers out of range, a non-object, or a missing or unknown resourceType.
 */
export function parseFhirJson(text: string): Resource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FhirError(400, `Malformed JSON: ${(e as Error).message}`, 'structure');
  }
  if (!isObject(value)) throw new FhirError(400, 'The JSON body must be an object holding a FHIR resource', 'structure');
  checkJsonContent(value, jsonTextMayHoldForbidden(text));
  const rt = value.resourceType;
  if (typeof rt !== 'string' || !rt) throw new FhirError(400, 'The JSON resource has no resourceType', 'structure');
  if (!isResourceType(rt)) throw new FhirError(400, `'${rt}' is not a FHIR resource type`, 'structure');
  return value as unknown as Resource;
}

/**
 * Refuses nesting deeper than MAX_JSON_DEPTH, keys and strings with characters FHIR text may not hold,
 * and numbers JSON.parse turned into Infinity. Nearly all input has none of these: a first pass only
 * finds whether there is one, without building a single path; only then does the pass that names the
 * first problem's location run.
 */
function checkJsonContent(root: JsonObject, checkCharacters: boolean): void {
  if (hasContentProblem(root, checkCharacters)) refuseFirstContentProblem(root, checkCharacters);
}

/** Whether refuseFirstContentProblem would refuse: the same checks, without recursion and without paths. */
function hasContentProblem(root: JsonObject, checkCharacters: boolean): boolean {
  // The values still to visit and their depths, side by side: no object per value.
  const values: (JsonObject | unknown[])[] = [root];
  const depths: number[] = [1];
  while (values.length) {
    const value = values.pop()!;
    const depth = depths.pop()!;
    if (depth > MAX_JSON_DEPTH) return true;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (childHasProblem(value[i], depth, checkCharacters, values, depths)) return true;
    } else {
      for (const key of Object.keys(value)) {
        if (checkCharacters && hasForbiddenCharacter(key)) return true;
        if (childHasProblem(value[key], depth, checkCharacters, values, depths)) return true;
      }
    }
  }
  return false;
}

/** A child's own problem; objects and arrays are queued for the walk instead. */
function childHasProblem(child: unknown, depth: number, checkCharacters: boolean, values: unknown[], depths: number[]): boolean {
  if (typeof child === 'string') return checkCharacters && hasForbiddenCharacter(child);
  if (typeof child === 'number') return !Number.isFinite(child);
  if (typeof child === 'object' && child !== null) {
    values.push(child);
    depths.push(depth + 1);
  }
  return false;
}

/**
 * One pass over parsed JSON, without recursion (the input may be nested arbitrarily deep), refusing
 * at the first problem it meets, named with its location.
 */
function refuseFirstContentProblem(root: JsonObject, checkCharacters: boolean): void {
  const rootPath = typeof root.resourceType === 'string' ? root.resourceType : '$';
  const stack: { value: JsonObject | unknown[]; path: string; depth: number }[] = [{ value: root, path: rootPath, depth: 1 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) refuse(`The JSON is nested deeper than ${MAX_JSON_DEPTH} levels`, path.length > 200 ? `${path.slice(0, 200)}...` : path);
    const array = Array.isArray(value);
    const keys = array ? undefined : Object.keys(value);
    const n = array ? value.length : keys!.length;
    for (let i = 0; i < n; i++) {
      const key = array ? undefined : keys![i]!;
      const child = array ? value[i] : (value as JsonObject)[key!];
      if (key !== undefined && checkCharacters) {
        const bad = forbiddenCharacter(key);
        if (bad) refuse(`The property name contains ${bad} (${FORBIDDEN_CHARACTER_RULE})`, childPath(path, i, key));
      }
      if (typeof child === 'string') {
        const bad = checkCharacters ? forbiddenCharacter(child) : undefined;
        if (bad) refuse(`The value contains ${bad} (${FORBIDDEN_CHARACTER_RULE})`, childPath(path, i, key));
      } else if (typeof child === 'number') {
        if (!Number.isFinite(child)) refuse('The number is out of range', childPath(path, i, key));
      } else if (typeof child === 'object' && child !== null) {
        stack.push({ value: child as JsonObject | unknown[], path: childPath(path, i, key), depth: depth + 1 });
      }
    }
  }
}

// Plain functions rather than closures made per value: nothing is allocated per value in this loop
// (written when tsx's keepNames also named every closure made; our loader does not).
function refuse(problem: string, path: string): never {
  throw new FhirError(400, [{ severity: 'error', code: 'structure', diagnostics: `${problem} at ${path}`, expression: [path] }]);
}

/** The path of an array item (key undefined) or of an object's property. */
function childPath(path: string, i: number, key: string | undefined): string {
  return key === undefined ? `${path}[${i}]` : `${path}.${key}`;
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
  checkObject(resource as JsonObject, typeInfo(rt)!, rt, issues, 1);
  return issues;
}

function checkObject(obj: JsonObject, type: TypeInfo, path: string, issues: OperationOutcomeIssue[], depth: number): void {
  // parseFhirJson already refused deeper input; this guards resources built in other ways.
  if (depth > MAX_JSON_DEPTH) {
    issues.push(issue(`Nested deeper than ${MAX_JSON_DEPTH} levels`, path));
    return;
  }
  let empty = true;
  // Made on the first choice element met: most objects have none.
  let choices: Map<string, string> | undefined;
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
      choices ??= new Map();
      const other = choices.get(el.choiceOf);
      if (other && other !== name) issues.push(issue(`Only one of ${el.choiceOf}[x] may be given, found ${other} and ${name}`, `${path}.${name}`));
      choices.set(el.choiceOf, name);
    }
    if (isShadow) {
      if (obj[name] === undefined) checkPrimitive(el, undefined, obj[key], `${path}.${name}`, issues, depth);
      continue;
    }
    if (el.primitive) checkPrimitive(el, obj[key], obj['_' + name], `${path}.${name}`, issues, depth);
    else checkComplex(el, obj[key], `${path}.${name}`, issues, depth);
  }
  if (empty) issues.push(issue(`An object of type ${type.name} must not be empty`, path));
}

function checkComplex(el: ElementInfo, value: unknown, path: string, issues: OperationOutcomeIssue[], depth: number): void {
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
      else checkObject(item, typeInfo(rt)!, here, issues, depth + 1);
      return;
    }
    const type = typeInfo(el.type);
    if (type) checkObject(item, type, here, issues, depth + 1);
  });
}

function checkPrimitive(el: ElementInfo, value: unknown, shadow: unknown, path: string, issues: OperationOutcomeIssue[], depth: number): void {
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
      else checkObject(s, typeInfo('Element')!, here, issues, depth + 1);
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
