// Splits the body of one `${...}` into tokens. Scanning starts right after the opening `${` and stops
// at the first `}` outside a string literal (JUEL 2.2 has no braces inside expressions).
import { ExpressionError } from './expression-error.ts';

export type Token =
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly position: number }
  | { readonly kind: 'string'; readonly value: string; readonly text: string; readonly position: number }
  | { readonly kind: 'literal'; readonly value: boolean | null; readonly text: string; readonly position: number }
  | { readonly kind: 'identifier'; readonly text: string; readonly position: number }
  /** Symbolic operators and punctuation; word operators are normalised to their symbol (`and` → `&&`). */
  | { readonly kind: 'operator'; readonly operator: string; readonly text: string; readonly position: number }
  | { readonly kind: 'end'; readonly text: string; readonly position: number };

const WORD_OPERATORS: Readonly<Record<string, string>> = {
  and: '&&', or: '||', not: '!', eq: '==', ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=',
  div: '/', mod: '%', empty: 'empty',
};
const WORD_LITERALS: Readonly<Record<string, boolean | null>> = { true: true, false: false, null: null };
const TWO_CHAR_OPERATORS = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const ONE_CHAR_OPERATORS = new Set(['<', '>', '!', '+', '-', '*', '/', '%', '?', ':', '(', ')', '[', ']', '.', ',']);

const IDENTIFIER_START = /[\p{L}_$]/u;
const IDENTIFIER_PART = /[\p{L}\p{N}_$]/u;
const DIGIT = /[0-9]/;

export interface TokenizedBody {
  readonly tokens: readonly Token[];
  /** Index in the source just after the closing `}`. */
  readonly end: number;
}

export function tokenizeBody(source: string, start: number): TokenizedBody {
  const tokens: Token[] = [];
  let i = start;
  const fail = (detail: string, at: number): never => {
    throw new ExpressionError(source, `Syntax error at position ${at}: ${detail}`);
  };

  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '}') {
      tokens.push({ kind: 'end', text: '}', position: i });
      return { tokens, end: i + 1 };
    }
    if (c === "'" || c === '"') {
      const { value, next } = readString(source, i, fail);
      tokens.push({ kind: 'string', value, text: source.slice(i, next), position: i });
      i = next;
      continue;
    }
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(source[i + 1] ?? '') && !followsOperand(tokens))) {
      const match = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(source.slice(i))!;
      const text = match[0];
      if (IDENTIFIER_PART.test(source[i + text.length] ?? '')) fail(`malformed number '${text}${source[i + text.length]}'`, i);
      tokens.push({ kind: 'number', value: Number(text), text, position: i });
      i += text.length;
      continue;
    }
    if (IDENTIFIER_START.test(c)) {
      let j = i + 1;
      while (j < source.length && IDENTIFIER_PART.test(source[j]!)) j++;
      const word = source.slice(i, j);
      if (word === 'instanceof') fail("'instanceof' is not supported", i);
      if (Object.hasOwn(WORD_LITERALS, word)) tokens.push({ kind: 'literal', value: WORD_LITERALS[word]!, text: word, position: i });
      else if (Object.hasOwn(WORD_OPERATORS, word)) tokens.push({ kind: 'operator', operator: WORD_OPERATORS[word]!, text: word, position: i });
      else tokens.push({ kind: 'identifier', text: word, position: i });
      i = j;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (TWO_CHAR_OPERATORS.has(two)) {
      tokens.push({ kind: 'operator', operator: two, text: two, position: i });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPERATORS.has(c)) {
      tokens.push({ kind: 'operator', operator: c, text: c, position: i });
      i++;
      continue;
    }
    fail(`unexpected character '${c}'`, i);
  }
  return fail("missing closing '}'", source.length);
}

/** `.5` is a number unless it follows something that can have a property (`a.5` is member syntax). */
function followsOperand(tokens: readonly Token[]): boolean {
  const last = tokens[tokens.length - 1];
  if (!last) return false;
  if (last.kind === 'identifier' || last.kind === 'literal' || last.kind === 'number' || last.kind === 'string') return true;
  return last.kind === 'operator' && (last.operator === ')' || last.operator === ']');
}

/** EL string literals: `\\`, `\'` and `\"` are escapes; any other backslash is kept as is. */
function readString(
  source: string,
  start: number,
  fail: (detail: string, at: number) => never,
): { value: string; next: number } {
  const quote = source[start]!;
  let value = '';
  let i = start + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === quote) return { value, next: i + 1 };
    if (c === '\\') {
      const escaped = source[i + 1];
      if (escaped === '\\' || escaped === "'" || escaped === '"') {
        value += escaped;
        i += 2;
        continue;
      }
    }
    value += c;
    i++;
  }
  return fail('unterminated string literal', start);
}
