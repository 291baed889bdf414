// A search page's statement text, kept by what shapes it: the text of its WHERE clause (built anew for
// every search, so it follows every parameter type's SQL exactly) and the page's form (resource type,
// sort, total, text form, byte bound). Identifier searches differ in their values only, so nearly every
// search finds its text here instead of building the page around the clause again; and a text kept is
// a string whose hash V8 already knows, so the coalescer's and the prepared statements' look-ups by text
// need not flatten and hash a fresh kilobyte each time.
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
 * Most characters kept, keys and texts together (a WHERE clause of hundreds of OR-ed values is tens of
 * kilobytes); a page statement longer than a sixteenth of it is never kept.
 */
export const MAX_PAGE_TEXT_CHARS = 4_000_000;

/** A page's text and its batch form (coalesced-statements.ts), when it has one. */
interface PageText {
  text: string;
  batchForm?: BatchForm;
}

const texts = new Map<string, PageText>();
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

const keyOf = (shape: PageShape, where: string, whereValues: number) =>
  `${shape.resourceType}|${shape.sort.map((s) => (s.descending ? '-' : '') + s.code).join(',')}|${shape.wantTotal ? 1 : 0}${shape.asText ? 1 : 0}${shape.bounded ? 1 : 0}|${whereValues}|${where}`;

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
  const key = keyOf(shape, where, whereValues.length);
  const known = texts.get(key);
  if (known !== undefined) return { text: known.text, values: [...whereValues, ...tail], batchForm: known.batchForm };
  const built = build();
  const added = built.values.slice(whereValues.length);
  const chars = key.length + built.text.length + (built.batchForm?.text.length ?? 0);
  if (chars <= MAX_PAGE_TEXT_CHARS / 16 && added.length === tail.length && added.every((v, k) => v === tail[k])) {
    if (texts.size >= MAX_PAGE_TEXTS || keptChars + chars > MAX_PAGE_TEXT_CHARS) {
      texts.clear();
      keptChars = 0;
    }
    texts.set(key, built.batchForm ? { text: built.text, batchForm: built.batchForm } : { text: built.text });
    keptChars += chars;
  }
  return built;
}

/** How many texts are kept and their characters with their keys (for tests). */
export const pageTextsKept = (): { texts: number; chars: number } => ({ texts: texts.size, chars: keptChars });
