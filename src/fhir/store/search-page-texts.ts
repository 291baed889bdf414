// A search page's statement text, kept by what shapes it: the text of its WHERE clause (built anew for
// every search, so it follows every parameter type's SQL exactly) and the page's form (resource type,
// sort, total, text form, byte bound). Identifier searches differ in their values only, so nearly every
// search finds its text here instead of building the page around the clause again; and a text kept is
// a string whose hash V8 already knows, so the coalescer's and the prepared statements' look-ups by text
// need not flatten and hash a fresh kilobyte each time.
//
// The texts are found by the clause's length and then compared field by field and with the clause
// itself: hashing the fresh clause (hundreds of characters) as part of a string key cost more than
// comparing it with the one kept of the same length, which stops at the first differing character.
import type { SortSpec } from '../search/search-request.ts';
import type { BatchForm } from '../../db/coalesced-statements.ts';

/** What shapes a page statement besides its WHERE clause. */
export interface PageShape {
  resourceType: string;
  sort: readonly SortSpec[];
  wantTotal: boolean;
  asText: boolean;
  bounded: boolean;
}

/** Most texts kept; then all are forgotten (a new shape is one build of its page, as without the cache). */
export const MAX_PAGE_TEXTS = 512;
/**
 * Most characters kept, clauses and texts together (a WHERE clause of hundreds of OR-ed values is tens of
 * kilobytes); a page statement longer than a sixteenth of it is never kept.
 */
export const MAX_PAGE_TEXT_CHARS = 4_000_000;
/** Most texts kept for one length of the clause (each look-up compares at most these); the oldest goes first. */
export const MAX_PAGE_TEXTS_PER_LENGTH = 16;

interface Kept {
  where: string;
  whereValues: number;
  resourceType: string;
  sort: readonly SortSpec[];
  /** wantTotal, asText and bounded as bits. */
  form: number;
  text: string;
  /** The text's batch form (coalesced-statements.ts), when it has one. */
  batchForm?: BatchForm;
}

const texts = new Map<number, Kept[]>();
let keptTexts = 0;
let keptChars = 0;

/**
 * The page statement's values after the WHERE clause's: each sort by a search parameter adds its
 * type and code, then the page's count and offset, then the byte bound when there is one.
 */
export function pageTailValues(sort: readonly SortSpec[], resourceType: string, count: number, offset: number, maxPageBytes: number | undefined): unknown[] {
  const tail: unknown[] = [];
  for (const s of sort) if (s.code !== '_id' && s.code !== '_lastUpdated') tail.push(resourceType, s.code);
  tail.push(count, offset);
  if (maxPageBytes !== undefined) tail.push(maxPageBytes);
  return tail;
}

const formOf = (shape: PageShape) => (shape.wantTotal ? 4 : 0) | (shape.asText ? 2 : 0) | (shape.bounded ? 1 : 0);

function sameSort(a: readonly SortSpec[], b: readonly SortSpec[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k]!.code !== b[k]!.code || !a[k]!.descending !== !b[k]!.descending) return false;
  return true;
}

/**
 * The page statement around `where`: its text kept for this shape, sent with the WHERE clause's values
 * and `tail`; else `build`'s text and values, the text kept when the values `build` added after the
 * clause's are `tail` (so a text taken from here always goes with the values it was built with).
 */
export function pageStatementFor(
  shape: PageShape,
  where: string,
  whereValues: readonly unknown[],
  tail: readonly unknown[],
  build: () => { text: string; values: unknown[]; batchForm?: BatchForm },
): { text: string; values: unknown[]; batchForm?: BatchForm } {
  const form = formOf(shape);
  const sameLength = texts.get(where.length);
  if (sameLength !== undefined) {
    for (const k of sameLength) {
      if (k.whereValues === whereValues.length && k.form === form && k.resourceType === shape.resourceType && sameSort(k.sort, shape.sort) && k.where === where) return { text: k.text, values: [...whereValues, ...tail], batchForm: k.batchForm };
    }
  }
  const built = build();
  const added = built.values.slice(whereValues.length);
  const chars = where.length + built.text.length + (built.batchForm?.text.length ?? 0);
  if (chars <= MAX_PAGE_TEXT_CHARS / 16 && added.length === tail.length && added.every((v, k) => v === tail[k])) {
    const kept: Kept = { where, whereValues: whereValues.length, resourceType: shape.resourceType, sort: shape.sort.map((s) => ({ code: s.code, descending: s.descending })), form, text: built.text };
    if (built.batchForm) kept.batchForm = built.batchForm;
    keep(where, kept, chars);
  }
  return built;
}

function keep(where: string, kept: Kept, chars: number): void {
  if (keptTexts >= MAX_PAGE_TEXTS || keptChars + chars > MAX_PAGE_TEXT_CHARS) {
    texts.clear();
    keptTexts = 0;
    keptChars = 0;
  }
  let sameLength = texts.get(where.length);
  if (!sameLength) texts.set(where.length, (sameLength = []));
  if (sameLength.length >= MAX_PAGE_TEXTS_PER_LENGTH) {
    const oldest = sameLength.shift()!;
    keptTexts--;
    keptChars -= oldest.where.length + oldest.text.length + (oldest.batchForm?.text.length ?? 0);
  }
  sameLength.push(kept);
  keptTexts++;
  keptChars += chars;
}

/** How many texts are kept and their characters with their clauses (for tests). */
export const pageTextsKept = (): { texts: number; chars: number } => ({ texts: keptTexts, chars: keptChars });
