// The comparison prefixes of ordered search values (date, number, quantity) as data: each prefix is a
// set of comparisons between the bounds of the stored value's range and of the searched value's range.
// One table per parameter type; the same table is rendered as SQL (search in the database) and
// evaluated in memory (Subscription matching), so the two cannot disagree.

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

/** A bound of the stored value: its range [lo, hi) (a point for numbers: lo = hi). */
type StoredBound = 'lo' | 'hi';
/** A bound of the searched value: its range by precision, its exact value, and the approximate range (ap: ±10 %). */
export type SearchBound = 'lo' | 'hi' | 'value' | 'apLo' | 'apHi';
type Operator = '<' | '<=' | '>' | '>=';

export interface PrefixRule {
  /** Every comparison holds ... */
  all: readonly (readonly [StoredBound, Operator, SearchBound])[];
  /** ... or, negated, not all of them hold. */
  negate?: boolean;
}

export type PrefixRules = Readonly<Partial<Record<Prefix, PrefixRule>>>;

/** Dates: half-open ranges by precision on both sides (R4 3.1.1.4). */
export const DATE_PREFIXES: PrefixRules = {
  eq: { all: [['lo', '>=', 'lo'], ['hi', '<=', 'hi']] },
  ne: { all: [['lo', '>=', 'lo'], ['hi', '<=', 'hi']], negate: true },
  gt: { all: [['hi', '>', 'hi']] },
  lt: { all: [['lo', '<', 'lo']] },
  ge: { all: [['hi', '>', 'lo']] },
  le: { all: [['lo', '<', 'hi']] },
  sa: { all: [['lo', '>=', 'hi']] },
  eb: { all: [['hi', '<=', 'lo']] },
};

/**
 * Numbers and quantities (R4 3.1.1.4.2): a stored value is a point; eq/ne use the range the searched
 * value's precision implies (100 is [99.5, 100.5)), gt/lt/ge/le its exact value, sa/eb lie beyond
 * that range, ap within 10 % of the value.
 */
export const NUMBER_PREFIXES: PrefixRules = {
  eq: { all: [['lo', '>=', 'lo'], ['lo', '<', 'hi']] },
  ne: { all: [['lo', '>=', 'lo'], ['lo', '<', 'hi']], negate: true },
  gt: { all: [['lo', '>', 'value']] },
  lt: { all: [['lo', '<', 'value']] },
  ge: { all: [['lo', '>=', 'value']] },
  le: { all: [['lo', '<=', 'value']] },
  sa: { all: [['lo', '>=', 'hi']] },
  eb: { all: [['lo', '<', 'lo']] },
  ap: { all: [['lo', '>=', 'apLo'], ['lo', '<=', 'apHi']] },
};

/** Splits a leading prefix off a value ('ge2020' -> ge, '2020'); eq when there is none. */
export function splitPrefix(value: string, rules: PrefixRules): { prefix: Prefix; rest: string } {
  const p = value.slice(0, 2) as Prefix;
  if (rules[p] && /^[\d+-]/.test(value.slice(2))) return { prefix: p, rest: value.slice(2) };
  return { prefix: 'eq', rest: value };
}

/** The rule as SQL over the stored row's columns; `search` gives each searched bound as SQL (adding its parameter only when used). */
export function prefixSql(rule: PrefixRule, stored: { lo: string; hi: string }, search: (bound: SearchBound) => string): string {
  const all = rule.all.map(([bound, op, against]) => `${stored[bound]} ${op} ${search(against)}`).join(' AND ');
  return rule.negate ? `NOT (${all})` : all;
}

const compare = (a: number, op: Operator, b: number) => (op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b);

/** The rule evaluated in memory on numbers (dates as milliseconds). */
export function prefixHolds(rule: PrefixRule, stored: { lo: number; hi: number }, search: Readonly<Partial<Record<SearchBound, number>>>): boolean {
  const all = rule.all.every(([bound, op, against]) => compare(stored[bound], op, search[against] ?? Number.NaN));
  return rule.negate ? !all : all;
}
