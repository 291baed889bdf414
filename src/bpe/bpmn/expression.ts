// Public entry point for JUEL expressions in BPMN models (conditions, field injections, inputs):
// splits a source into literal text and `${...}` / `#{...}` parts, parses each part once and caches the
// result by source text. No eval / new Function anywhere: tokenizer → parser → tree evaluator.
import type { ExpressionNode } from './expression-ast.ts';
import { toText } from './expression-coercion.ts';
import { evaluateNode, type ExpressionScope } from './expression-evaluator.ts';
import { parseBody } from './expression-parser.ts';
import { tokenizeBody } from './expression-tokenizer.ts';

export { ExpressionError } from './expression-error.ts';
export type { ExpressionScope } from './expression-evaluator.ts';

export interface CompiledExpression {
  readonly source: string;
  /** True when the source contains no `${...}` / `#{...}`; evaluate then returns the text itself. */
  readonly isLiteral: boolean;
  evaluate(scope: ExpressionScope): unknown;
}

type Part = string | ExpressionNode;

const CACHE_LIMIT = 2000;
const cache = new Map<string, CompiledExpression>();

export function compileExpression(source: string): CompiledExpression {
  const cached = cache.get(source);
  if (cached) {
    // Re-insert so the map's insertion order doubles as least-recently-used order.
    cache.delete(source);
    cache.set(source, cached);
    return cached;
  }
  const compiled = buildExpression(source);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(source, compiled);
  return compiled;
}

/** Builds a scope over plain variables, e.g. for tests or for evaluating against a snapshot. */
export function scopeFromObject(variables: Readonly<Record<string, unknown>>): ExpressionScope {
  return {
    has: (name) => Object.hasOwn(variables, name),
    get: (name) => (Object.hasOwn(variables, name) ? variables[name] : undefined),
  };
}

function buildExpression(source: string): CompiledExpression {
  const parts = splitParts(source);
  if (parts.every((p) => typeof p === 'string')) {
    const text = parts.join('');
    return { source, isLiteral: true, evaluate: () => text };
  }
  if (parts.length === 1) {
    const node = parts[0] as ExpressionNode;
    return { source, isLiteral: false, evaluate: (scope) => evaluateNode(node, scope, source) };
  }
  return {
    source,
    isLiteral: false,
    evaluate: (scope) =>
      parts.map((part) => (typeof part === 'string' ? part : toText(evaluateNode(part, scope, source)))).join(''),
  };
}

/** Literal text keeps `\${` / `\#{` as escapes for a literal `${` / `#{`. */
function splitParts(source: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\' && (source[i + 1] === '$' || source[i + 1] === '#') && source[i + 2] === '{') {
      text += source.slice(i + 1, i + 3);
      i += 3;
      continue;
    }
    if ((c === '$' || c === '#') && source[i + 1] === '{') {
      if (text) parts.push(text);
      text = '';
      const { tokens, end } = tokenizeBody(source, i + 2);
      parts.push(parseBody(source, tokens));
      i = end;
      continue;
    }
    text += c;
    i++;
  }
  if (text || parts.length === 0) parts.push(text);
  return parts;
}
