// Statements with the same text that arrive in the same event-loop turn for the same group (one
// caller's access filter) go to PostgreSQL as one statement (batching rules: turn-batches.ts): the
// text runs once per distinct values vector as a LATERAL subquery over the vectors, `unnest(...) WITH
// ORDINALITY`, and each caller gets exactly the rows its own statement returns, in the same order.
//
// Values equal in every vector stay scalar parameters at their place; each position that differs is
// passed as an array and its placeholder becomes a column of the unnest, typed by its JavaScript values
// (strings text, integers int8, booleans bool, arrays as their text literal). The arrays reach unnest
// through a subquery, so that the planner never sees how many vectors a batch has, and the always true
// `batch_k BETWEEN ...` makes it estimate one vector: PostgreSQL keeps planning a prepared statement
// anew (a custom plan, 0.5-1 ms of its CPU per batch) while the generic plan's estimated cost exceeds
// a custom plan's by more than the planning, and a difference per vector, multiplied by the estimated
// number of vectors, easily does. So a parameter whose type
// PostgreSQL inferred from its context as something else needs an explicit cast in the text (as the
// search SQL writes `::uuid[]`, `::timestamptz`, `::numeric`); a text PostgreSQL refuses as a batch (SQL
// state class 42) is remembered and not batched again.
import { TurnBatches, type TurnBatchStats } from './turn-batches.ts';
import { pgArrayLiteral } from './pg-array-literal.ts';

/** What runs a statement: a pool, a request's view of it, a connection, or a coalescing view. */
export interface StatementRunner {
  query(text: string, values: unknown[]): Promise<{ rows: any[] }>;
}

/** Most distinct statements one batch serves. */
export const MAX_COALESCED_STATEMENTS = 64;

/**
 * More passes of the event loop a batch with company waits for the requests that came in meanwhile
 * (turn-batches.ts): at 16 clients 9-10 searches a statement instead of 7, a fifth fewer statements.
 */
export const SEARCH_EXTRA_POLLS = 2;

/** Texts PostgreSQL refused as a batch, kept at most this many (then forgotten and tried again). */
const MAX_REFUSED = 256;

type Row = Record<string, unknown>;

const sameValue = (a: unknown, b: unknown) => a === b || (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && JSON.stringify(a) === JSON.stringify(b));

/** An array's text literal (pg-array-literal.ts), for strings, finite numbers and nulls only; undefined otherwise. */
function arrayLiteral(values: unknown[]): string | undefined {
  const plain = values.every((v) => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)));
  return plain ? pgArrayLiteral(values as (string | number | null)[]) : undefined;
}

/** The column of one parameter position over all vectors: its array type and the values to send; undefined when not batchable. */
function column(values: unknown[]): { type: string; values: unknown[] } | undefined {
  const given = values.filter((v) => v !== null && v !== undefined);
  if (given.every((v) => typeof v === 'string')) return { type: 'text', values };
  if (given.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) return { type: 'int8', values };
  if (given.every((v) => typeof v === 'boolean')) return { type: 'bool', values };
  if (given.every(Array.isArray)) {
    const literals = values.map((v) => (Array.isArray(v) ? arrayLiteral(v) : null));
    return literals.includes(undefined) ? undefined : { type: 'text', values: literals };
  }
  return undefined;
}

/**
 * The statement running `text` once for each values vector, with `batch_k` (1-based index of the
 * vector) and `batch_row` (the row's place in that statement's result) added to its rows; undefined
 * when a differing value has no batchable type.
 */
export function batchStatement(text: string, vectors: readonly unknown[][]): { text: string; values: unknown[] } | undefined {
  const values = [...vectors[0]!];
  const columns: [number, string][] = [];
  let signature = '';
  for (let i = 0; i < values.length; i++) {
    // Most positions are equal in every vector: compared in place, a column gathered only where one differs.
    const first = values[i];
    let k = 1;
    while (k < vectors.length && sameValue(vectors[k]![i], first)) k++;
    if (k === vectors.length) continue;
    const c = column(vectors.map((v) => v[i]));
    if (!c) return undefined;
    values[i] = c.values;
    columns.push([i + 1, c.type]);
    signature += `${signature ? ',' : ''}${i + 1}:${c.type}`;
  }
  if (!columns.length) return undefined;
  return { text: batchText(text, columns, signature), values };
}

/** Batch texts by statement text and varying columns: building one costs a pass over a long text. */
const batchTexts = new Map<string, Map<string, string>>();
const MAX_BATCH_TEXTS = 256;

/**
 * A statement's own batch form, used instead of the LATERAL wrapper because it costs PostgreSQL less
 * (search-query.ts: identifier pages). `text` is a whole statement with BATCH_VECTORS where the
 * vectors' FROM item goes (the unnest, alias q, columns v<n> and batch_k) and the statement's own
 * placeholders elsewhere; it selects batch_k first and batch_row last (the row's place in that vector's
 * own result), the statement's columns between them, ordered by batch_k, batch_row. Only parameters
 * 1..varyingUpTo may differ between vectors (those where q is in scope); otherwise the wrapper is used.
 */
export interface BatchForm {
  text: string;
  varyingUpTo: number;
}

export const BATCH_VECTORS = '/* batch vectors */';

/** Batch forms by statement text, at most this many (then forgotten; their statements set them again). */
const batchForms = new Map<string, BatchForm>();
const MAX_BATCH_FORMS = 256;

/** Sets the batch form of `text` for its batches from now on. */
export function setBatchForm(text: string, form: BatchForm): void {
  if (batchForms.get(text) === form) return;
  if (batchForms.size >= MAX_BATCH_FORMS) batchForms.clear();
  batchForms.set(text, form);
  batchTexts.delete(text);
}

/** The batch text of `text` with these (1-based) parameter positions and types varying (`signature`: them as "n:type,..."). */
function batchText(text: string, columns: [number, string][], signature: string): string {
  let byColumns = batchTexts.get(text);
  const known = byColumns?.get(signature);
  if (known !== undefined) return known;
  const varying = new Set(columns.map(([n]) => n));
  const withColumns = (t: string) => t.replace(/\$(\d+)/g, (placeholder, n: string) => (varying.has(Number(n)) ? `q.v${n}` : placeholder));
  const vectors = `unnest(${columns.map(([n, type]) => `(SELECT $${n}::${type}[])`).join(', ')}) WITH ORDINALITY AS q(${columns.map(([n]) => `v${n}`).join(', ')}, batch_k)`;
  const form = batchForms.get(text);
  // The text's own last line may end in a -- comment: the wrapper goes on on a line of its own.
  const built =
    form && columns.every(([n]) => n <= form.varyingUpTo)
      ? withColumns(form.text).replace(BATCH_VECTORS, vectors)
      : `SELECT q.batch_k, b.* FROM ${vectors}
  CROSS JOIN LATERAL (SELECT x.*, row_number() OVER () AS batch_row FROM (${withColumns(text)}
  ) x) b
  WHERE q.batch_k BETWEEN 1 AND 2147483647 ORDER BY q.batch_k, b.batch_row`;
  if (!byColumns) {
    if (batchTexts.size >= MAX_BATCH_TEXTS) batchTexts.clear();
    batchTexts.set(text, (byColumns = new Map()));
  }
  byColumns.set(signature, built);
  return built;
}

export class StatementCoalescer {
  private readonly batches: TurnBatches<unknown[], Row[][]>;
  private readonly refused = new Set<string>();
  /** Keys of the statements waiting in batches (each its own: equal values are rare, and comparing them costs). */
  private sequence = 0;

  constructor(maxBatch = MAX_COALESCED_STATEMENTS, extraPolls = SEARCH_EXTRA_POLLS) {
    this.batches = new TurnBatches(maxBatch, extraPolls);
  }

  get stats(): TurnBatchStats {
    return this.batches.stats;
  }

  /** A runner whose statements share a statement with those of the same text and group in the same turn; batches run on `db`. */
  view(db: StatementRunner, group: object | undefined): StatementRunner {
    return { query: (text, values) => this.query(db, group, text, values) };
  }

  /** The rows of (text, values), from a batch when others of the turn have the same text and group, else from its own statement. */
  async query(db: StatementRunner, group: object | undefined, text: string, values: unknown[]): Promise<{ rows: Row[] }> {
    if (!this.refused.has(text)) {
      const shared = await this.batches.load(group, text, String(this.sequence++), values, (vectors) => this.run(db, text, vectors));
      if (shared) return { rows: shared.result[shared.index]! };
    }
    return db.query(text, values);
  }

  /** The rows of each vector; undefined when the values cannot be batched. */
  private async run(db: StatementRunner, text: string, vectors: unknown[][]): Promise<Row[][] | undefined> {
    // Undefined also when nothing differs (the same statement more than once): each runs its own, so
    // that no two requests share the objects of a result (a Binary's content is put into them).
    const batch = batchStatement(text, vectors);
    if (!batch) return undefined;
    let rows: Row[];
    try {
      rows = (await db.query(batch.text, batch.values)).rows;
    } catch (e) {
      // Refused by the parser or planner (a parameter type the batch cannot carry): never batch this text again.
      if (String((e as { code?: unknown }).code ?? '').startsWith('42')) {
        if (this.refused.size >= MAX_REFUSED) this.refused.clear();
        this.refused.add(text);
      }
      throw e;
    }
    const byVector: Row[][] = vectors.map(() => []);
    // Each row again without batch_k and batch_row, as the statement alone returns it: a new plain object
    // with the row's other keys, in order, rather than `delete`, which puts the row in V8's dictionary
    // mode (slower to make, and to read for every caller after), batch_k being its first key.
    for (const row of rows) {
      const own: Row = {};
      for (const key in row) if (key !== 'batch_k' && key !== 'batch_row') own[key] = row[key];
      byVector[Number(row.batch_k) - 1]!.push(own);
    }
    return byVector;
  }
}
