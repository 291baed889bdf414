// Recursive-descent parser for the JUEL subset, one function per precedence level (lowest first):
// ternary, ||, &&, == !=, < > <= >=, + -, * / %, unary (! - empty), member access and calls.
import type { BinaryOperator, ExpressionNode } from './expression-ast.ts';
import { ExpressionError } from './expression-error.ts';
import type { Token } from './expression-tokenizer.ts';

export function parseBody(source: string, tokens: readonly Token[]): ExpressionNode {
  return new Parser(source, tokens).parseWhole();
}

class Parser {
  private index = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseWhole(): ExpressionNode {
    if (this.peek().kind === 'end') this.fail('empty expression');
    const node = this.parseConditional();
    if (this.peek().kind !== 'end') this.fail(`unexpected '${this.peek().text}'`);
    return node;
  }

  private parseConditional(): ExpressionNode {
    const test = this.parseOr();
    if (!this.acceptOperator('?')) return test;
    const whenTrue = this.parseConditional();
    this.expectOperator(':');
    const whenFalse = this.parseConditional();
    return { type: 'conditional', test, whenTrue, whenFalse };
  }

  private parseOr(): ExpressionNode {
    return this.parseLeftAssociative(['||'], () => this.parseAnd());
  }

  private parseAnd(): ExpressionNode {
    return this.parseLeftAssociative(['&&'], () => this.parseEquality());
  }

  private parseEquality(): ExpressionNode {
    return this.parseLeftAssociative(['==', '!='], () => this.parseRelational());
  }

  private parseRelational(): ExpressionNode {
    return this.parseLeftAssociative(['<', '>', '<=', '>='], () => this.parseAdditive());
  }

  private parseAdditive(): ExpressionNode {
    return this.parseLeftAssociative(['+', '-'], () => this.parseMultiplicative());
  }

  private parseMultiplicative(): ExpressionNode {
    return this.parseLeftAssociative(['*', '/', '%'], () => this.parseUnary());
  }

  private parseLeftAssociative(operators: readonly BinaryOperator[], parseOperand: () => ExpressionNode): ExpressionNode {
    let left = parseOperand();
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'operator' || !(operators as readonly string[]).includes(token.operator)) return left;
      this.index++;
      const right = parseOperand();
      left = { type: 'binary', operator: token.operator as BinaryOperator, left, right };
    }
  }

  private parseUnary(): ExpressionNode {
    const token = this.peek();
    if (token.kind === 'operator' && (token.operator === '!' || token.operator === '-' || token.operator === 'empty')) {
      this.index++;
      return { type: 'unary', operator: token.operator, operand: this.parseUnary() };
    }
    return this.parsePostfix();
  }

  private parsePostfix(): ExpressionNode {
    let node = this.parsePrimary();
    for (;;) {
      if (this.acceptOperator('.')) {
        const name = this.next();
        // Any word may follow a dot, including reserved ones (`a.empty` → isEmpty()).
        const isWord = name.kind === 'identifier' || name.kind === 'literal' || (name.kind === 'operator' && /^[a-z]+$/.test(name.text));
        if (!isWord) this.fail(`expected a property name after '.' but found '${name.text}'`, name);
        node = this.parseCallOrMember(node, { type: 'literal', value: name.text });
      } else if (this.acceptOperator('[')) {
        const key = this.parseConditional();
        this.expectOperator(']');
        node = this.parseCallOrMember(node, key);
      } else {
        return node;
      }
    }
  }

  private parseCallOrMember(object: ExpressionNode, key: ExpressionNode): ExpressionNode {
    if (this.acceptOperator('(')) return { type: 'methodCall', object, method: key, args: this.parseArguments() };
    return { type: 'member', object, key };
  }

  /** Parses the arguments after an already consumed `(` up to and including `)`. */
  private parseArguments(): ExpressionNode[] {
    const args: ExpressionNode[] = [];
    if (this.acceptOperator(')')) return args;
    do args.push(this.parseConditional());
    while (this.acceptOperator(','));
    this.expectOperator(')');
    return args;
  }

  private parsePrimary(): ExpressionNode {
    const token = this.next();
    switch (token.kind) {
      case 'number':
      case 'string':
      case 'literal':
        return { type: 'literal', value: token.value };
      case 'identifier':
        if (this.acceptOperator('(')) return { type: 'functionCall', name: token.text, args: this.parseArguments() };
        return { type: 'identifier', name: token.text };
      case 'operator':
        if (token.operator === '(') {
          const inner = this.parseConditional();
          this.expectOperator(')');
          return inner;
        }
        return this.fail(`unexpected '${token.text}'`, token);
      case 'end':
        return this.fail('unexpected end of expression', token);
    }
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private acceptOperator(operator: string): boolean {
    const token = this.peek();
    if (token.kind === 'operator' && token.operator === operator) {
      this.index++;
      return true;
    }
    return false;
  }

  private expectOperator(operator: string): void {
    if (!this.acceptOperator(operator)) this.fail(`expected '${operator}' but found '${this.peek().text}'`);
  }

  private fail(detail: string, token: Token = this.peek()): never {
    throw new ExpressionError(this.source, `Syntax error at position ${token.position}: ${detail}`);
  }
}
