// @peculiar/x509 depends on tsyringe, which refuses to load unless `Reflect.getMetadata` exists
// (normally supplied by the `reflect-metadata` package, which is not among our dependencies).
// tsyringe only needs a few functions of that API, so we install a small metadata store here.
// Import this module before '@peculiar/x509' (x509-generate.ts does); it does nothing when a
// real polyfill is already loaded.

type MetadataKey = unknown;
type PropertyKeyOrNone = string | symbol | undefined;

const store = new WeakMap<object, Map<PropertyKeyOrNone, Map<MetadataKey, unknown>>>();

function ownMap(target: object, property: PropertyKeyOrNone, create: boolean): Map<MetadataKey, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

function defineMetadata(key: MetadataKey, value: unknown, target: object, property?: string | symbol): void {
  ownMap(target, property, true)!.set(key, value);
}

function getOwnMetadata(key: MetadataKey, target: object, property?: string | symbol): unknown {
  return ownMap(target, property, false)?.get(key);
}

function hasOwnMetadata(key: MetadataKey, target: object, property?: string | symbol): boolean {
  return ownMap(target, property, false)?.has(key) ?? false;
}

// Walks the prototype chain like the reference polyfill does, bounded by the chain's length.
function getMetadata(key: MetadataKey, target: object, property?: string | symbol): unknown {
  for (let o: object | null = target; o; o = Object.getPrototypeOf(o)) {
    if (hasOwnMetadata(key, o, property)) return getOwnMetadata(key, o, property);
  }
  return undefined;
}

function hasMetadata(key: MetadataKey, target: object, property?: string | symbol): boolean {
  for (let o: object | null = target; o; o = Object.getPrototypeOf(o)) {
    if (hasOwnMetadata(key, o, property)) return true;
  }
  return false;
}

function metadata(key: MetadataKey, value: unknown) {
  return (target: object, property?: string | symbol): void => defineMetadata(key, value, target, property);
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  Object.assign(reflect, { defineMetadata, getOwnMetadata, hasOwnMetadata, getMetadata, hasMetadata, metadata });
}

export {};
