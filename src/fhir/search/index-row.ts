// One row of the search index: a value of a search parameter of a current resource version. The
// parameter-type modules (param-types/) say which columns a type fills and how they are compared.
export interface IndexRow {
  /** The parameter code; a reference's identifier rows under `<code>:identifier`. */
  param: string;
  /** Token system; the target type of a reference; a quantity's system. */
  system: string | null;
  /** Token code; string, uri value; reference target id; a quantity's code. */
  code: string | null;
  /** Normalised string; a full or canonical reference; a quantity's unit. */
  norm: string | null;
  /** Target uuid of a reference to a resource of this server (for _include/_revinclude). */
  refId: string | null;
  /** Date ranges, half open [lo, hi), ISO instants. */
  lo: string | null;
  hi: string | null;
  /** Numbers and quantities: the value as decimal text. */
  num: string | null;
}

export function indexRow(param: string, r: Partial<Omit<IndexRow, 'param'>>): IndexRow {
  return { param, system: r.system ?? null, code: r.code ?? null, norm: r.norm ?? null, refId: r.refId ?? null, lo: r.lo ?? null, hi: r.hi ?? null, num: r.num ?? null };
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
