// Property reads (`a.b`, `a['b']`) and method calls (`a.m(x)`) on JavaScript values with Java flavour:
// Map.get for maps, index access for arrays, bean getters (`a.b` → `a.getB()` / `a.isB()`) and the
// common java.lang / java.util methods DSF processes call (size, isEmpty, equals, contains, ...).
import { ExpressionError } from './expression-error.ts';
import { describeType, isEmptyValue, isPlainObject, toNumber, toText } from './expression-coercion.ts';

/** Names that would open a path to the Function constructor or prototype tampering. */
function assertAccessible(name: string, source: string): void {
  if (name === 'constructor' || name === 'prototype' || name.startsWith('__')) {
    throw new ExpressionError(source, `Access to '${name}' is not allowed`);
  }
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Reads `base[key]`; a null base yields null as in JUEL. Missing map/object keys yield null too. */
export function readProperty(base: unknown, key: unknown, source: string): unknown {
  if (base === null || base === undefined) return null;
  if (base instanceof Map) return base.has(key) ? base.get(key) : null;
  if (Array.isArray(base) && (typeof key === 'number' || (typeof key === 'string' && /^[0-9]+$/.test(key)))) {
    const index = toNumber(key, source);
    return Number.isInteger(index) && index >= 0 && index < base.length ? base[index] : null;
  }
  const name = toText(key);
  assertAccessible(name, source);
  const target = Object(base) as Record<string, unknown>;
  // Plain objects behave like Java maps: only their own entries count, never Object.prototype's.
  const ownOnly = isPlainObject(base);
  const has = (n: string): boolean => (ownOnly ? Object.hasOwn(target, n) : n in target);

  const direct = has(name) ? target[name] : undefined;
  if (direct !== undefined && typeof direct !== 'function') return direct;
  for (const getterName of [`get${capitalize(name)}`, `is${capitalize(name)}`]) {
    const getter = has(getterName) ? target[getterName] : undefined;
    if (typeof getter === 'function') return getter.call(base);
    const emulated = javaMethod(base, getterName);
    if (emulated) return emulated(base, []);
  }
  if (has(name) || ownOnly) return direct ?? null;
  throw new ExpressionError(source, `Cannot resolve property '${name}' on ${describeType(base)}`);
}

/** Calls `base.name(...args)`: the value's own or class methods first, then Java emulations, then built-ins. */
export function callMethod(base: unknown, name: string, args: unknown[], source: string): unknown {
  if (base === null || base === undefined) {
    throw new ExpressionError(source, `Cannot call method '${name}' on null`);
  }
  assertAccessible(name, source);
  const target = Object(base) as Record<string, unknown>;
  const candidate = target[name];
  if (typeof candidate === 'function' && (Object.hasOwn(target, name) || !isBuiltInShape(base))) {
    return candidate.apply(base, args);
  }
  const emulated = javaMethod(base, name);
  if (emulated) return emulated(base, args, source);
  if (typeof candidate === 'function') return candidate.apply(base, args);
  throw new ExpressionError(source, `Cannot find method '${name}' on ${describeType(base)}`);
}

/** Values whose methods come from JavaScript's built-in prototypes rather than from the application. */
function isBuiltInShape(value: unknown): boolean {
  return (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof Date ||
    isPlainObject(value)
  );
}

type Emulation = (base: never, args: unknown[], source?: string) => unknown;

const STRING_METHODS: Readonly<Record<string, Emulation>> = {
  length: (s: string) => s.length,
  isEmpty: (s: string) => s.length === 0,
  isBlank: (s: string) => s.trim().length === 0,
  contains: (s: string, [part]) => s.includes(toText(part)),
  equalsIgnoreCase: (s: string, [other]) => typeof other === 'string' && s.toLowerCase() === other.toLowerCase(),
  matches: (s: string, [pattern]) => new RegExp(`^(?:${toText(pattern)})$`, 'u').test(s),
  compareTo: (s: string, [other]) => {
    const o = toText(other);
    return s < o ? -1 : s > o ? 1 : 0;
  },
};

const LIST_METHODS: Readonly<Record<string, Emulation>> = {
  size: (list: unknown[]) => list.length,
  isEmpty: (list: unknown[]) => list.length === 0,
  contains: (list: unknown[], [item]) => list.includes(item),
  get: (list: unknown[], [index], source) => {
    const i = toNumber(index, source ?? '');
    if (!Number.isInteger(i) || i < 0 || i >= list.length) {
      throw new ExpressionError(source ?? '', `Index ${toText(index)} out of bounds for length ${list.length}`);
    }
    return list[i];
  },
};

const MAP_METHODS: Readonly<Record<string, Emulation>> = {
  size: (map: Map<unknown, unknown>) => map.size,
  isEmpty: (map: Map<unknown, unknown>) => map.size === 0,
  containsKey: (map: Map<unknown, unknown>, [key]) => map.has(key),
  containsValue: (map: Map<unknown, unknown>, [value]) => [...map.values()].includes(value),
  keySet: (map: Map<unknown, unknown>) => [...map.keys()],
  values: (map: Map<unknown, unknown>) => [...map.values()],
};

const SET_METHODS: Readonly<Record<string, Emulation>> = {
  size: (set: Set<unknown>) => set.size,
  isEmpty: (set: Set<unknown>) => set.size === 0,
  contains: (set: Set<unknown>, [item]) => set.has(item),
};

const PLAIN_OBJECT_METHODS: Readonly<Record<string, Emulation>> = {
  size: (o: object) => Object.keys(o).length,
  isEmpty: (o: object) => Object.keys(o).length === 0,
  containsKey: (o: object, [key]) => Object.hasOwn(o, toText(key)),
  get: (o: Record<string, unknown>, [key]) => (Object.hasOwn(o, toText(key)) ? o[toText(key)] : null),
  keySet: (o: object) => Object.keys(o),
  values: (o: object) => Object.values(o),
};

const NUMBER_METHODS: Readonly<Record<string, Emulation>> = {
  intValue: (n: number) => Math.trunc(n),
  longValue: (n: number) => Math.trunc(n),
  doubleValue: (n: number) => n,
  compareTo: (n: number, [other], source) => Math.sign(n - toNumber(other, source ?? '')),
};

const BOOLEAN_METHODS: Readonly<Record<string, Emulation>> = {
  booleanValue: (b: boolean) => b,
};

const ANY_METHODS: Readonly<Record<string, Emulation>> = {
  equals: (value: unknown, [other]) =>
    value === other || (value instanceof Date && other instanceof Date && value.getTime() === other.getTime()),
  toString: (value: unknown) => toText(value),
  isEmpty: (value: unknown) => isEmptyValue(value),
};

function javaMethod(base: unknown, name: string): ((base: unknown, args: unknown[], source?: string) => unknown) | undefined {
  let table: Readonly<Record<string, Emulation>> | undefined;
  if (typeof base === 'string') table = STRING_METHODS;
  else if (Array.isArray(base)) table = LIST_METHODS;
  else if (base instanceof Map) table = MAP_METHODS;
  else if (base instanceof Set) table = SET_METHODS;
  else if (isPlainObject(base)) table = PLAIN_OBJECT_METHODS;
  else if (typeof base === 'number') table = NUMBER_METHODS;
  else if (typeof base === 'boolean') table = BOOLEAN_METHODS;
  const found = (table && Object.hasOwn(table, name) ? table[name] : undefined) ?? (Object.hasOwn(ANY_METHODS, name) ? ANY_METHODS[name] : undefined);
  return found as ((base: unknown, args: unknown[], source?: string) => unknown) | undefined;
}
