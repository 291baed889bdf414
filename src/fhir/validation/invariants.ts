// FHIRPath invariants (ElementDefinition.constraint), compiled once per (context path, expression);
// the hot universal ones are decided natively first (native-invariants.ts).
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { nativeInvariant, type NativeInvariant } from './native-invariants.ts';

type Evaluator = (data: unknown, env: Record<string, unknown>) => unknown[];

export type InvariantResult = 'pass' | 'fail' | { error: string };

const compiled = new Map<string, CompiledInvariant>();
const fhirpathOnly = new Map<string, Evaluator | Error>();
/** Base invariants such as dom-3 call trace(); keep them off the console. */
const OPTIONS = { traceFn: () => {} };

/** Context path for fhirpath's type information: no slice names, no '[x]'. */
function contextPath(path: string): string {
  return path.replace(/\[x\]/g, '');
}

function fhirpathEvaluator(path: string, expression: string): Evaluator | Error {
  try {
    const base = contextPath(path);
    const compiledFn = base.includes('.') ? fhirpath.compile({ base, expression }, r4, OPTIONS) : fhirpath.compile(expression, r4, OPTIONS);
    return (data, env) => compiledFn(data, env) as unknown[];
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

function runFhirpath(fn: Evaluator, data: unknown, resource: unknown, rootResource: unknown): InvariantResult {
  try {
    const result = fn(data, { resource, rootResource });
    // An empty result (e.g. comparisons with missing operands) does not count as a violation.
    return result.every((r) => r === true) ? 'pass' : 'fail';
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** Evaluates with FHIRPath only (no native shortcut): the reference the native checks are tested against. */
export function evaluateWithFhirpath(path: string, expression: string, data: unknown, resource: unknown, rootResource: unknown): InvariantResult {
  const key = `${path}\u0000${expression}`;
  let fn = fhirpathOnly.get(key);
  if (!fn) fhirpathOnly.set(key, (fn = fhirpathEvaluator(path, expression)));
  return fn instanceof Error ? { error: fn.message } : runFhirpath(fn, data, resource, rootResource);
}

/**
 * An invariant ready to run: `data` is the context, %resource and %rootResource as given. One class
 * rather than a closure per invariant: every invariant runs through the same code (V8 optimises it
 * once), and the FHIRPath form is compiled on first need (a native check may decide every value).
 */
export class CompiledInvariant {
  private evaluator: Evaluator | Error | undefined;

  constructor(
    private readonly path: string,
    private readonly expression: string,
    private readonly native: NativeInvariant | undefined,
  ) {}

  run(data: unknown, resource: unknown, rootResource: unknown): InvariantResult {
    const decided = this.native === undefined ? undefined : this.native(data);
    if (decided !== undefined) return decided ? 'pass' : 'fail';
    const fn = (this.evaluator ??= fhirpathEvaluator(this.path, this.expression));
    return fn instanceof Error ? { error: fn.message } : runFhirpath(fn, data, resource, rootResource);
  }
}

/** The runnable form of an invariant, shared by every element with the same context path and expression. */
export function compileInvariant(path: string, expression: string): CompiledInvariant {
  const key = `${path}\u0000${expression}`;
  let fn = compiled.get(key);
  if (!fn) {
    fn = new CompiledInvariant(path, expression, nativeInvariant(expression));
    compiled.set(key, fn);
  }
  return fn;
}
