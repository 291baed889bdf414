// What readers see: a reference that carries an identifier is returned without its literal part. The
// server stores the literal it resolved from the identifier (search, _include and authorization use
// it), and hides it on the way out, as the reference server's ReferenceCleaner does. A reference that
// came with only a literal part is returned as it came.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { extractReferences } from './reference-extractor.ts';

type Obj = Record<string, any>;

const RESPONSE_BUNDLES = new Set(['searchset', 'history', 'batch-response', 'transaction-response']);

const needsCleaning = (holder: Obj) => typeof holder.reference === 'string' && holder.identifier !== undefined;

/** The resource without the literal part of references that also have an identifier; the input is never changed. */
export function cleanLiteralReferences<T extends Resource>(resource: T): T {
  const refs = extractReferences(resource).filter((r) => r.element === 'reference' && needsCleaning(r.holder));
  if (!refs.length) return resource;
  const copy = structuredClone(resource);
  // Same walk on the copy: the same references, in the same order.
  for (const r of extractReferences(copy)) if (r.element === 'reference' && needsCleaning(r.holder)) delete r.holder.reference;
  return copy;
}

/**
 * A resource about to be sent: response Bundles (search, history, batch/transaction responses) have
 * each entry's resource cleaned; any other resource is cleaned itself (a stored Bundle has no checked
 * references, so it is returned as stored).
 */
export function cleanForOutput<T extends Resource>(resource: T): T {
  if (resource.resourceType !== 'Bundle') return cleanLiteralReferences(resource);
  const bundle = resource as Bundle;
  if (!RESPONSE_BUNDLES.has(bundle.type ?? '') || !bundle.entry?.length) return resource;
  let entries: Bundle['entry'] | undefined;
  bundle.entry.forEach((e, i) => {
    if (!e.resource) return;
    const cleaned = cleanLiteralReferences(e.resource);
    if (cleaned === e.resource) return;
    entries ??= [...bundle.entry!];
    entries[i] = { ...e, resource: cleaned };
  });
  return entries ? ({ ...bundle, entry: entries } as T) : resource;
}

/**
 * Decides from a resource's keys alone (each with the first character of its value, as JSON text, and
 * its depth, 1 for the resource itself) whether cleanLiteralReferences could change it: only an object
 * inside the resource with a string `reference` and an `identifier` can be changed, so `mayChange`
 * false is certain (true may be a false alarm: the two keys in different objects). A class, not an
 * object literal with a getter, which V8 makes on a slow path (about 0.8 µs each against 0.15 µs;
 * docs/performance.md, sixteenth session): a read makes one, a searchset one per entry. compactJsonbText
 * is handed the watch itself and tells it each key by its place (`keyAt`): the two names are recognized
 * by length and characters in place, no string sliced per key. `key` is the same rule for a key given as
 * a string, a function made when asked for (it can be called detached).
 */
export class ReferenceCleaningWatch {
  private reference = false;
  private identifier = false;

  keyAt(text: string, start: number, end: number, valueStart: number, depth: number): void {
    if (depth < 2) return;
    const length = end - start;
    if (length === 9) {
      if (valueStart === 0x22 && text.startsWith('reference', start)) this.reference = true;
    } else if (length === 10 && text.startsWith('identifier', start)) this.identifier = true;
  }

  get key(): (name: string, valueStart: number, depth: number) => void {
    return (name, valueStart, depth) => this.keyAt(name, 0, name.length, valueStart, depth);
  }

  get mayChange(): boolean {
    return this.reference && this.identifier;
  }
}
