// `{ ...source, ...extra }` for plain data objects (parsed JSON, resources, records of our own), built
// by assignment. Node 20's V8 builds an object literal that spreads an object and then adds a property
// the spread did not bring (`{ ...meta, versionId }`) on a slow path: 0.7-1.7 µs each time, against
// 0.05-0.2 µs here (docs/performance.md, fifteenth session). A property given again keeps its place, as
// in the spread; own symbol-keyed properties are not copied (none of our data objects have any).

/** A copy of `source` (none: an empty object) with the properties of `extra` set, as `{ ...source, ...extra }` gives. */
export function spreadWith<S extends object, E extends object>(source: S | undefined, extra: E): Omit<S, keyof E> & E {
  const copy: Record<string, unknown> = {};
  // for-in visits own properties in the order the spread copies them; inherited ones are skipped.
  if (source) for (const key in source) if (Object.hasOwn(source, key)) put(copy, key, (source as Record<string, unknown>)[key]);
  for (const key in extra) if (Object.hasOwn(extra, key)) put(copy, key, (extra as Record<string, unknown>)[key]);
  return copy as Omit<S, keyof E> & E;
}

/** Defines the property as the spread does: a key '__proto__' (JSON.parse makes it an own property) stays a property. */
function put(copy: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(copy, key, { value, writable: true, enumerable: true, configurable: true });
  else copy[key] = value;
}
