// Search-parameter expressions that are plain element paths ('Patient.identifier', 'meta.tag') read
// from the JSON directly instead of through FHIRPath: the same values for the common, plain shapes.
// Anything FHIRPath treats specially (a choice element, a primitive extension '_x', nulls, a type
// prefix that is not the resource's own type) returns undefined, and the caller asks FHIRPath.
// test/fhir/search/plain-path.test.ts compares both on a corpus.

type Json = Record<string, unknown>;

const PLAIN_PATH = /^[A-Za-z]+(\.[A-Za-z]+)*$/;

/** Values at the path, or undefined when FHIRPath must decide. */
export type PlainPathEvaluator = (resource: unknown) => unknown[] | undefined;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A resource type ('Patient') as the first segment names the context's type; element names start in lower case. */
const isTypeName = (segment: string) => segment.charCodeAt(0) >= 65 && segment.charCodeAt(0) <= 90;

/** An evaluator for a plain path expression; undefined for any other expression. */
export function plainPathEvaluator(expression: string): PlainPathEvaluator | undefined {
  if (!PLAIN_PATH.test(expression)) return undefined;
  const segments = expression.split('.');
  const typeName = isTypeName(segments[0]!) ? segments.shift()! : undefined;
  if (segments.some(isTypeName)) return undefined;
  return (resource) => {
    if (!isObject(resource)) return undefined;
    if (typeName !== undefined && resource.resourceType !== typeName) return undefined;
    let current: unknown[] = [resource];
    for (const segment of segments) {
      const next: unknown[] = [];
      for (const node of current) {
        if (!isObject(node)) return undefined;
        const value = node[segment];
        if (value === undefined) {
          // valueString for 'value', or a primitive with only extensions: FHIRPath's model decides.
          for (const key in node) if (key.startsWith(segment) && key !== segment && isTypeName(key.slice(segment.length))) return undefined;
          if (node[`_${segment}`] !== undefined) return undefined;
          continue;
        }
        if (node[`_${segment}`] !== undefined) return undefined;
        if (Array.isArray(value)) {
          for (const item of value) {
            if (item === null || item === undefined || Array.isArray(item)) return undefined;
            next.push(item);
          }
        } else if (value === null) {
          return undefined;
        } else {
          next.push(value);
        }
      }
      current = next;
    }
    return current;
  };
}
