// A search's statements (its WHERE clause with values, its page statement) kept with the request they
// were built for, when that request is frozen (search-request-memo.ts: the same object for the same
// URL): building them again costs the search's SQL, the access condition's look-up and the page text's
// look-up each time, and gives the same text and values for the same request, caller and page form.
//
// Kept per request (a WeakMap: they go with it) and per what else shapes them: the base URL, the
// caller's access filter (one object per identity; access-sql.ts keeps its SQL by the same object),
// total, text form and byte bound. Nothing kept depends on the database or the time. Only plans whose
// values are strings, numbers, booleans, nulls or arrays of those are kept (a date's bound is a Date,
// which no freezing protects); their arrays are frozen, and every caller gets its own copy of the
// values' list.
import type { BatchForm } from '../../db/coalesced-statements.ts';
import type { AccessFilter } from './access-condition.ts';
import type { SearchRequest } from '../search/search-request.ts';

/** A search's statements: the WHERE clause and its values; the page statement unless only counted. */
export interface SearchPlan {
  where: string;
  whereValues: readonly unknown[];
  page?: { text: string; values: readonly unknown[]; batchForm?: BatchForm };
}

/** Most plans kept for one request (callers and forms); then the oldest goes. */
export const MAX_PLANS_PER_REQUEST = 8;

interface Kept {
  baseUrl: string;
  access: AccessFilter | undefined;
  /** wantTotal and asText as bits. */
  form: number;
  maxPageBytes: number | undefined;
  plan: SearchPlan;
}

const plans = new WeakMap<SearchRequest, Kept[]>();

const plain = (v: unknown) => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Whether every value may be kept; freezes the arrays among them. */
function keepable(values: readonly unknown[]): boolean {
  for (const v of values) {
    if (plain(v)) continue;
    if (!Array.isArray(v) || !v.every(plain)) return false;
  }
  for (const v of values) if (Array.isArray(v)) Object.freeze(v);
  return true;
}

/**
 * The plan of `req` for this caller and form: the one kept when `req` is frozen and was planned so
 * before, else `build`'s (kept when `req` is frozen and its values may be kept).
 */
export function searchPlanFor(
  req: SearchRequest,
  baseUrl: string,
  access: AccessFilter | undefined,
  wantTotal: boolean,
  asText: boolean,
  maxPageBytes: number | undefined,
  build: () => SearchPlan,
): SearchPlan {
  if (!Object.isFrozen(req)) return build();
  const form = (wantTotal ? 2 : 0) | (asText ? 1 : 0);
  let kept = plans.get(req);
  if (kept !== undefined) {
    for (const k of kept) if (k.access === access && k.form === form && k.maxPageBytes === maxPageBytes && k.baseUrl === baseUrl) return k.plan;
  }
  const plan = build();
  if (!keepable(plan.whereValues) || (plan.page && !keepable(plan.page.values))) return plan;
  Object.freeze(plan.whereValues);
  if (plan.page) Object.freeze(Object.freeze(plan.page).values);
  if (kept === undefined) plans.set(req, (kept = []));
  if (kept.length >= MAX_PLANS_PER_REQUEST) kept.shift();
  kept.push({ baseUrl, access, form, maxPageBytes, plan: Object.freeze(plan) });
  return plan;
}
