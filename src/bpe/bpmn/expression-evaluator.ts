// Walks a parsed expression tree against a scope. `&&`, `||` and `?:` evaluate lazily, so guards such as
// `execution.hasVariable('x') && x == 'a'` never touch an unknown identifier.
import type { ExpressionNode } from './expression-ast.ts';
import { ExpressionError } from './expression-error.ts';
import { compareValues, isEmptyValue, looseEquals, toBoolean, toNumber, toText } from './expression-coercion.ts';
import { callMethod, readProperty } from './expression-member-access.ts';

export interface ExpressionScope {
  has(name: string): boolean;
  get(name: string): unknown;
}

export function evaluateNode(node: ExpressionNode, scope: ExpressionScope, source: string): unknown {
  const evaluate = (n: ExpressionNode): unknown => evaluateNode(n, scope, source);
  switch (node.type) {
    case 'literal':
      return node.value;
    case 'identifier':
      if (!scope.has(node.name)) {
        throw new ExpressionError(source, `Unknown property used: cannot resolve identifier '${node.name}'`);
      }
      return scope.get(node.name) ?? null;
    case 'member':
      return readProperty(evaluate(node.object), evaluate(node.key), source) ?? null;
    case 'methodCall': {
      const base = evaluate(node.object);
      const name = toText(evaluate(node.method));
      return callMethod(base, name, node.args.map(evaluate), source) ?? null;
    }
    case 'functionCall': {
      const fn = scope.has(node.name) ? scope.get(node.name) : undefined;
      if (typeof fn !== 'function') throw new ExpressionError(source, `Unknown function '${node.name}'`);
      return (fn as (...args: unknown[]) => unknown)(...node.args.map(evaluate)) ?? null;
    }
    case 'unary':
      return evaluateUnary(node.operator, evaluate(node.operand), source);
    case 'conditional':
      return toBoolean(evaluate(node.test), source) ? evaluate(node.whenTrue) : evaluate(node.whenFalse);
    case 'binary':
      switch (node.operator) {
        case '&&':
          return toBoolean(evaluate(node.left), source) && toBoolean(evaluate(node.right), source);
        case '||':
          return toBoolean(evaluate(node.left), source) || toBoolean(evaluate(node.right), source);
        default:
          return evaluateBinary(node.operator, evaluate(node.left), evaluate(node.right), source);
      }
  }
}

function evaluateUnary(operator: '!' | '-' | 'empty', value: unknown, source: string): unknown {
  switch (operator) {
    case '!':
      return !toBoolean(value, source);
    case 'empty':
      return isEmptyValue(value);
    case '-':
      return value === null || value === undefined ? 0 : -toNumber(value, source);
  }
}

function evaluateBinary(operator: string, left: unknown, right: unknown, source: string): unknown {
  switch (operator) {
    case '==':
      return looseEquals(left, right, source);
    case '!=':
      return !looseEquals(left, right, source);
    case '<':
    case '>':
    case '<=':
    case '>=':
      return compareWith(operator, compareValues(left, right, source));
  }
  // Arithmetic (EL 1.7): two nulls give 0, otherwise both sides are coerced to numbers; `+` never concatenates.
  if ((left === null || left === undefined) && (right === null || right === undefined)) return 0;
  const a = toNumber(left, source);
  const b = toNumber(right, source);
  switch (operator) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      if (b === 0 && Number.isInteger(a)) throw new ExpressionError(source, 'Division by zero');
      return a % b;
  }
  throw new ExpressionError(source, `Unsupported operator '${operator}'`);
}

function compareWith(operator: '<' | '>' | '<=' | '>=', order: number | null): boolean {
  if (order === null) return false;
  switch (operator) {
    case '<':
      return order < 0;
    case '>':
      return order > 0;
    case '<=':
      return order <= 0;
    case '>=':
      return order >= 0;
  }
}
