// FHIRPath invariants (ElementDefinition.constraint), compiled once per (context path, expression).
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

type Evaluator = (data: unknown, env: Record<string, unknown>) => unknown[];

const compiled = new Map<string, Evaluator | Error>();
/** Base invariants such as dom-3 call trace(); keep them off the console. */
const OPTIONS = { traceFn: () => {} };

/** Context path for fhirpath's type information: no slice names, no '[x]'. */
function contextPath(path: string): string {
  return path.replace(/\[x\]/g, '');
}

function evaluator(path: string, expression: string): Evaluator | Error {
  const key = `${path}\u0000${expression}`;
  let fn = compiled.get(key);
  if (!fn) {
    try {
      const base = contextPath(path);
      const compiledFn = base.includes('.')
        ? fhirpath.compile({ base, expression }, r4, OPTIONS)
        : fhirpath.compile(expression, r4, OPTIONS);
      fn = (data, env) => compiledFn(data, env) as unknown[];
    } catch (e) {
      fn = e instanceof Error ? e : new Error(String(e));
    }
    compiled.set(key, fn);
  }
  return fn;
}

export type InvariantResult = 'pass' | 'fail' | { error: string };

/** Evaluates an invariant with `data` as context; %resource and %rootResource as given. */
export function evaluateInvariant(path: string, expression: string, data: unknown, resource: unknown, rootResource: unknown): InvariantResult {
  const fn = evaluator(path, expression);
  if (fn instanceof Error) return { error: fn.message };
  try {
    const result = fn(data, { resource, rootResource });
    // An empty result (e.g. comparisons with missing operands) does not count as a violation.
    return result.every((r) => r === true) ? 'pass' : 'fail';
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}
