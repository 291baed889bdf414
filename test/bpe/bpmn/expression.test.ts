import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, ExpressionError, scopeFromObject, type ExpressionScope } from '../../../src/bpe/bpmn/expression.ts';

class Targets {
  constructor(private readonly items: string[]) {}
  getEntries(): string[] {
    return this.items;
  }
  isComplete(): boolean {
    return this.items.length > 1;
  }
}

class Execution {
  constructor(private readonly variables: Map<string, unknown>) {}
  hasVariable(name: string): boolean {
    return this.variables.has(name);
  }
  getVariable(name: string): unknown {
    return this.variables.get(name);
  }
  getBusinessKey(): string {
    return 'bk-1';
  }
}

/** A scope like the engine's: process variables plus `execution`. */
function processScope(variables: Record<string, unknown>): ExpressionScope {
  const map = new Map(Object.entries(variables));
  const execution = new Execution(map);
  return {
    has: (name) => name === 'execution' || map.has(name),
    get: (name) => (name === 'execution' ? execution : map.get(name)),
  };
}

const scope = scopeFromObject({
  s: 'text',
  blank: '',
  n: 5,
  f: 2.5,
  t: true,
  no: false,
  nothing: null,
  list: [1, 2, 3],
  emptyList: [],
  map: new Map<string, unknown>([['key', 'value'], ['count', 2]]),
  emptyMap: new Map(),
  set: new Set(['a']),
  obj: { a: { b: 'deep' }, 'x-y': 7 },
  emptyObj: {},
  targets: new Targets(['t1', 't2']),
  plainTargets: { entries: ['p1'] },
  getterObject: { getName: () => 'from getter' },
  date1: new Date('2026-01-01T00:00:00Z'),
  date2: new Date('2026-06-01T00:00:00Z'),
  numericText: '42',
  add: (a: number, b: number) => a + b,
});

function run(source: string, s: ExpressionScope = scope): unknown {
  return compileExpression(source).evaluate(s);
}

function assertFails(source: string, pattern: RegExp, s: ExpressionScope = scope): void {
  assert.throws(
    () => run(source, s),
    (e: unknown) => e instanceof ExpressionError && pattern.test(e.message) && e.message.includes(source),
  );
}

describe('literal and composite sources', () => {
  test('text without ${ or #{ is a literal string', () => {
    const compiled = compileExpression('just text');
    assert.equal(compiled.isLiteral, true);
    assert.equal(compiled.source, 'just text');
    assert.equal(compiled.evaluate(scope), 'just text');
    assert.equal(compileExpression('').evaluate(scope), '');
  });

  test('a single ${...} returns the typed value', () => {
    assert.equal(compileExpression('${n}').isLiteral, false);
    assert.equal(run('${n}'), 5);
    assert.equal(run('${t}'), true);
    assert.equal(run('${nothing}'), null);
    assert.deepEqual(run('${list}'), [1, 2, 3]);
    assert.equal(run('#{s}'), 'text');
  });

  test('mixed text and expressions concatenate as strings; null contributes nothing', () => {
    assert.equal(run('abc ${s} def'), 'abc text def');
    assert.equal(run('${n}${n}'), '55');
    assert.equal(run('[${nothing}]'), '[]');
    assert.equal(run('${t} and #{f}'), 'true and 2.5');
    assert.equal(run(' ${n}'), ' 5');
  });

  test('escaped \\${ stays literal text', () => {
    const compiled = compileExpression('cost: \\${n} vs ${n}');
    assert.equal(compiled.evaluate(scope), 'cost: ${n} vs 5');
    assert.equal(compileExpression('\\${n}').isLiteral, true);
  });

  test('compiled expressions are cached by source, in a bounded cache', () => {
    const first = compileExpression('${n + 1}');
    assert.equal(compileExpression('${n + 1}'), first);
    for (let i = 0; i < 2500; i++) compileExpression(`\${n * ${i}}`);
    const again = compileExpression('${n + 1}');
    assert.notEqual(again, first, 'the oldest entry was evicted');
    assert.equal(again.evaluate(scope), 6);
    for (let i = 0; i < 1500; i++) {
      compileExpression(`\${n - ${i}}`);
      assert.equal(compileExpression('${n + 1}'), again, 'recently used entries stay');
    }
  });

  test('a closing brace inside a string literal does not end the expression', () => {
    assert.equal(run("${'a}b'}"), 'a}b');
  });
});

describe('literals', () => {
  test('strings in single and double quotes with escapes', () => {
    assert.equal(run("${'single'}"), 'single');
    assert.equal(run('${"double"}'), 'double');
    assert.equal(run("${'it\\'s'}"), "it's");
    assert.equal(run('${"say \\"hi\\""}'), 'say "hi"');
    assert.equal(run("${'back\\\\slash'}"), 'back\\slash');
    assert.equal(run("${'\"'}"), '"');
  });

  test('integers, decimals and exponents', () => {
    assert.equal(run('${42}'), 42);
    assert.equal(run('${3.25}'), 3.25);
    assert.equal(run('${.5}'), 0.5);
    assert.equal(run('${1e3}'), 1000);
    assert.equal(run('${1.5E-1}'), 0.15);
  });

  test('true, false and null', () => {
    assert.equal(run('${true}'), true);
    assert.equal(run('${false}'), false);
    assert.equal(run('${null}'), null);
  });
});

describe('operators', () => {
  test('logical not, and, or with word forms', () => {
    assert.equal(run('${!t}'), false);
    assert.equal(run('${not no}'), true);
    assert.equal(run('${t && no}'), false);
    assert.equal(run('${t and t}'), true);
    assert.equal(run('${no || t}'), true);
    assert.equal(run('${no or no}'), false);
    assert.equal(run("${'TRUE' && t}"), true, "strings coerce: 'true' ignoring case");
    assert.equal(run('${nothing || no}'), false, 'null coerces to false');
  });

  test('&& and || short-circuit so unknown names on the dead side are not resolved', () => {
    assert.equal(run('${no && unknownName}'), false);
    assert.equal(run('${t || unknownName}'), true);
    assert.equal(run('${t ? 1 : unknownName}'), 1);
  });

  test('equality with word forms and JUEL coercions', () => {
    assert.equal(run("${s == 'text'}"), true);
    assert.equal(run("${s eq 'other'}"), false);
    assert.equal(run("${s != 'other'}"), true);
    assert.equal(run("${s ne 'text'}"), false);
    assert.equal(run("${numericText == 42}"), true, 'number vs numeric string compares numerically');
    assert.equal(run("${n == '5.0'}"), true);
    assert.equal(run('${n == 5.0}'), true);
    assert.equal(run('${nothing == null}'), true);
    assert.equal(run('${n == null}'), false);
    assert.equal(run("${nothing == ''}"), false);
    assert.equal(run("${t == 'true'}"), true, 'boolean vs string compares as booleans');
    assert.equal(run("${no == 'yes'}"), true, "'yes' is not 'true', so it is false");
    assert.equal(run('${date1 == date1}'), true);
    assert.equal(run('${list == list}'), true);
    assert.equal(run("${targetsText == 'targets:2'}", scopeFromObject({ targetsText: { toString: () => 'targets:2' } })), true, 'objects compare to strings through toString');
    assert.equal(run('${list == map}'), false);
  });

  test('relational operators with word forms', () => {
    assert.equal(run('${n < 6}'), true);
    assert.equal(run('${n lt 5}'), false);
    assert.equal(run('${n > 4}'), true);
    assert.equal(run('${n gt 5}'), false);
    assert.equal(run('${n <= 5}'), true);
    assert.equal(run('${n le 4}'), false);
    assert.equal(run('${n >= 5}'), true);
    assert.equal(run('${n ge 6}'), false);
    assert.equal(run("${'abc' < 'abd'}"), true, 'strings compare lexically');
    assert.equal(run("${numericText > 7}"), true, 'numeric string vs number compares numerically');
    assert.equal(run("${'10' > '9'}"), false, 'two strings compare lexically');
    assert.equal(run('${date1 < date2}'), true);
    assert.equal(run('${nothing < 1}'), false, 'null is unordered');
    assert.equal(run('${nothing >= 1}'), false);
  });

  test('arithmetic is numeric; + never concatenates', () => {
    assert.equal(run('${n + 2}'), 7);
    assert.equal(run("${'1' + '2'}"), 3);
    assert.equal(run('${n - 7}'), -2);
    assert.equal(run('${n * f}'), 12.5);
    assert.equal(run('${7 / 2}'), 3.5);
    assert.equal(run('${7 div 2}'), 3.5);
    assert.equal(run('${7 % 3}'), 1);
    assert.equal(run('${7 mod 3}'), 1);
    assert.equal(run('${-7 % 3}'), -1, 'remainder keeps the dividend sign like Java');
    assert.equal(run('${nothing + nothing}'), 0);
    assert.equal(run('${nothing + 3}'), 3);
    assert.equal(run("${'' + 3}"), 3);
    assert.equal(run('${1 / 0}'), Infinity);
  });

  test('unary minus and empty', () => {
    assert.equal(run('${-n}'), -5);
    assert.equal(run('${- -n}'), 5);
    assert.equal(run("${-'3'}"), -3);
    assert.equal(run('${-nothing}'), 0);
    for (const name of ['nothing', 'blank', 'emptyList', 'emptyMap', 'emptyObj']) {
      assert.equal(run(`\${empty ${name}}`), true, name);
    }
    for (const name of ['s', 'list', 'map', 'set', 'obj', 'n', 'no']) {
      assert.equal(run(`\${empty ${name}}`), false, name);
    }
    assert.equal(run('${!empty list}'), true);
    assert.equal(run('${not empty s}'), true);
  });

  test('ternary, including nesting (right-associative)', () => {
    assert.equal(run("${t ? 'yes' : 'no'}"), 'yes');
    assert.equal(run("${no ? 'yes' : 'no'}"), 'no');
    assert.equal(run("${n > 10 ? 'big' : n > 3 ? 'medium' : 'small'}"), 'medium');
    assert.equal(run("${(t ? no : t) ? 'a' : 'b'}"), 'b');
  });
});

describe('precedence', () => {
  test('multiplicative binds tighter than additive, left to right', () => {
    assert.equal(run('${1 + 2 * 3}'), 7);
    assert.equal(run('${(1 + 2) * 3}'), 9);
    assert.equal(run('${10 - 4 - 3}'), 3);
    assert.equal(run('${12 / 3 / 2}'), 2);
    assert.equal(run('${2 * 3 % 4}'), 2);
  });

  test('unary binds tighter than binary', () => {
    assert.equal(run('${-2 * 3}'), -6);
    assert.equal(run('${-n + 10}'), 5);
    assert.equal(run('${!no && no}'), false);
    assert.equal(run('${empty blank == true}'), true);
  });

  test('arithmetic over relational over equality over && over || over ?:', () => {
    assert.equal(run('${1 + 1 == 2}'), true);
    assert.equal(run('${1 < 2 == true}'), true, 'relational before equality');
    assert.equal(run('${t || t && no}'), true, '&& before ||');
    assert.equal(run('${(t || t) && no}'), false);
    assert.equal(run('${no && no || t}'), true);
    assert.equal(run("${n == 5 && s == 'text' ? 1 + 1 : 0}"), 2);
  });
});

describe('properties and methods', () => {
  test('dot and bracket property access on objects, maps and arrays', () => {
    assert.equal(run('${obj.a.b}'), 'deep');
    assert.equal(run("${obj['a']['b']}"), 'deep');
    assert.equal(run("${obj['x-y']}"), 7);
    assert.equal(run('${map.key}'), 'value');
    assert.equal(run("${map['count']}"), 2);
    assert.equal(run('${map.missing}'), null, 'missing map keys are null');
    assert.equal(run('${obj.missing}'), null, 'missing plain object keys are null');
    assert.equal(run('${list[0]}'), 1);
    assert.equal(run("${list['2']}"), 3);
    assert.equal(run('${list[7]}'), null, 'out of range list index is null');
    assert.equal(run('${nothing.anything}'), null, 'property of null is null');
  });

  test('bean getters: a.b calls getB() or isB() when there is no property b', () => {
    assert.deepEqual(run('${targets.entries}'), ['t1', 't2']);
    assert.deepEqual(run('${plainTargets.entries}'), ['p1']);
    assert.equal(run('${targets.complete}'), true);
    assert.equal(run('${getterObject.name}'), 'from getter');
    assert.equal(run('${targets.entries.size()}'), 2);
    assert.equal(run('${s.empty}'), false, 'emulated isEmpty() of a string');
    assert.equal(run('${emptyList.empty}'), true);
  });

  test('method calls on values with this bound', () => {
    const s = processScope({ x: 'a', count: 3 });
    assert.equal(run("${execution.getVariable('x')}", s), 'a');
    assert.equal(run("${execution.hasVariable('x')}", s), true);
    assert.equal(run('${execution.businessKey}', s), 'bk-1');
    assert.equal(run("${execution.getVariable('missing')}", s), null, 'undefined results become null');
    assert.equal(run("${s.toUpperCase()}"), 'TEXT');
    assert.equal(run("${s.substring(1, 3)}"), 'ex');
    assert.equal(run("${s.startsWith('te')}"), true);
    assert.equal(run("${s.indexOf('x')}"), 2);
    assert.equal(run("${map['get']('key')}"), 'value', 'bracket form of a method name');
    assert.equal(run('${add(2, 3)}'), 5, 'function values in the scope can be called');
  });

  test('Java collection and string methods', () => {
    assert.equal(run('${list.size()}'), 3);
    assert.equal(run('${emptyList.isEmpty()}'), true);
    assert.equal(run('${list.contains(2)}'), true);
    assert.equal(run('${list.get(0)}'), 1);
    assert.equal(run('${map.size()}'), 2);
    assert.equal(run("${map.containsKey('key')}"), true);
    assert.equal(run("${map.get('key')}"), 'value');
    assert.deepEqual(run('${map.keySet()}'), ['key', 'count']);
    assert.deepEqual(run('${map.values().size()}'), 2);
    assert.equal(run("${set.contains('a')}"), true);
    assert.equal(run('${set.size()}'), 1);
    assert.equal(run('${obj.size()}'), 2);
    assert.equal(run("${obj.containsKey('a')}"), true);
    assert.equal(run('${s.length()}'), 4);
    assert.equal(run('${s.isEmpty()}'), false);
    assert.equal(run('${blank.isEmpty()}'), true);
    assert.equal(run("${s.equals('text')}"), true);
    assert.equal(run("${s.equals('TEXT')}"), false);
    assert.equal(run("${s.equalsIgnoreCase('TEXT')}"), true);
    assert.equal(run("${s.contains('ex')}"), true);
    assert.equal(run("${s.matches('t.*t')}"), true);
    assert.equal(run("${s.matches('ex')}"), false, 'matches needs the whole string');
    assert.equal(run('${n.toString()}'), '5');
    assert.equal(run('${n.equals(5)}'), true);
    assert.equal(run('${f.intValue()}'), 2);
    assert.equal(run('${f.doubleValue()}'), 2.5);
    assert.equal(run('${n.compareTo(7)}'), -1);
    assert.equal(run('${t.booleanValue()}'), true);
  });
});

describe('DSF process examples', () => {
  const guard = "${execution.hasVariable('x') && (x == 'a' || x == 'b')}";

  test('hasVariable guard with alternatives', () => {
    assert.equal(run(guard, processScope({ x: 'a' })), true);
    assert.equal(run(guard, processScope({ x: 'b' })), true);
    assert.equal(run(guard, processScope({ x: 'c' })), false);
    assert.equal(run(guard, processScope({})), false, 'x is never resolved when missing');
  });

  test('gateway conditions on boolean variables', () => {
    assert.equal(run('${stop}', processScope({ stop: true })), true);
    assert.equal(run('${!sendResponse}', processScope({ sendResponse: false })), true);
    assert.equal(run('${targets.entries.size() > 0}', processScope({ targets: new Targets(['a']) })), true);
  });
});

describe('errors', () => {
  test('syntax errors are reported at compile time with the source', () => {
    const bad = ['${1 +}', '${x', '${}', '${(1 + 2}', '${a.}', '${a b}', '${a = 1}', '${1 & 2}', "${'open}", '${a[1}', '${f(1,}', '${t ? 1}', '${x instanceof y}', '${1abc}', '${@}'];
    for (const source of bad) {
      assert.throws(
        () => compileExpression(source),
        (e: unknown) => e instanceof ExpressionError && /Syntax error/.test(e.message) && e.message.includes(source) && e.source === source,
        source,
      );
    }
  });

  test('unknown identifiers fail at evaluation time, not at compile time', () => {
    const compiled = compileExpression('${unknownName == 1}');
    assertFails('${unknownName == 1}', /cannot resolve identifier 'unknownName'/);
    assert.equal(compiled.evaluate(scopeFromObject({ unknownName: 1 })), true);
  });

  test('impossible coercions, missing members and calls on null fail', () => {
    assertFails("${s == 1}", /Cannot coerce 'text' to a number/);
    assertFails('${t + 1}', /Cannot coerce boolean to a number/);
    assertFails("${'a' + 'b'}", /Cannot coerce 'a' to a number/);
    assertFails('${n && t}', /Cannot coerce number to a boolean/);
    assertFails('${list < 1}', /Cannot coerce array to a number/);
    assertFails('${list < map}', /Cannot compare/);
    assertFails('${nothing.size()}', /Cannot call method 'size' on null/);
    assertFails('${targets.unknownProperty}', /Cannot resolve property 'unknownProperty' on Targets/);
    assertFails('${list.frobnicate()}', /Cannot find method 'frobnicate'/);
    assertFails('${list.get(5)}', /out of bounds/);
    assertFails('${5 % 0}', /Division by zero/);
    assertFails('${notAFunction(1)}', /Unknown function 'notAFunction'/);
  });

  test('no path to the Function constructor or prototypes', () => {
    assertFails('${s.constructor}', /not allowed/);
    assertFails("${s['constructor']['constructor']('return 1')}", /not allowed/);
    assert.throws(() => compileExpression("${f('x')()}"), /Syntax error/, 'call results cannot be called');
    assertFails('${obj.__proto__}', /not allowed/);
    assertFails("${obj.__defineGetter__('a', null)}", /not allowed/);
    assertFails('${list.prototype}', /not allowed/);
    assert.equal(run('${obj.toString}'), null, "plain objects expose only their own entries");
  });
});
