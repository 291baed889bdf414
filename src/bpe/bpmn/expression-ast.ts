// The syntax tree of one `${...}` body, produced by the parser and walked by the evaluator.

export type BinaryOperator = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '>' | '<=' | '>=' | '&&' | '||';
export type UnaryOperator = '!' | '-' | 'empty';

export type ExpressionNode =
  | { readonly type: 'literal'; readonly value: string | number | boolean | null }
  | { readonly type: 'identifier'; readonly name: string }
  /** `a.b` (key is a literal node) or `a[expr]`. */
  | { readonly type: 'member'; readonly object: ExpressionNode; readonly key: ExpressionNode }
  /** `a.m(args)` or `a['m'](args)`. */
  | { readonly type: 'methodCall'; readonly object: ExpressionNode; readonly method: ExpressionNode; readonly args: readonly ExpressionNode[] }
  /** `f(args)` where f is a function value in the scope. */
  | { readonly type: 'functionCall'; readonly name: string; readonly args: readonly ExpressionNode[] }
  | { readonly type: 'unary'; readonly operator: UnaryOperator; readonly operand: ExpressionNode }
  | { readonly type: 'binary'; readonly operator: BinaryOperator; readonly left: ExpressionNode; readonly right: ExpressionNode }
  | { readonly type: 'conditional'; readonly test: ExpressionNode; readonly whenTrue: ExpressionNode; readonly whenFalse: ExpressionNode };
