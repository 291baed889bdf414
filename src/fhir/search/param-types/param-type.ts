// What one search-parameter type is (token, string, uri, reference, date, number, quantity): the index
// rows of a value, the SQL condition on an index row, and the same condition in memory, side by side in
// one module per type, so that search (SQL) and Subscription matching (memory) cannot drift apart.
import type { SqlParams } from '../../../db/sql-params.ts';
import type { IndexRow } from '../index-row.ts';
import type { SearchParamDef, SearchParamType } from '../parameters.ts';

/** What a type module needs to know of a filter. */
export interface FilterView {
  def: SearchParamDef;
  modifier?: string;
}

export interface SearchParamTypeModule {
  readonly type: SearchParamType;
  /** Modifiers a search may use (besides, for references, a target type). */
  readonly modifiers: readonly string[];
  /** The modifier that turns the filter into its negation (token :not). */
  readonly negatedBy?: string;
  /** The index column a sort by such a parameter orders by; none: not sortable. */
  readonly sortColumn?: string;
  /** The rows a filter looks at, when a modifier selects others than the parameter's own (reference :identifier). */
  indexParam?(code: string, modifier: string | undefined): string;
  /** Why a searched value is malformed (400 under strict handling, else ignored with a warning). */
  valueProblem?(value: string): string | undefined;
  /** The index rows of one value the parameter's FHIRPath expression yielded. */
  indexRows(def: SearchParamDef, value: unknown, baseUrl: string, out: IndexRow[]): void;
  /** SQL on the index row `s` for one searched value (parameters added to p only when used). */
  sql(filter: FilterView, value: string, p: SqlParams, baseUrl: string): string;
  /** Whether an index row matches one searched value: the same semantics as `sql`, in memory. */
  matches(filter: FilterView, value: string, row: IndexRow, baseUrl: string): boolean;
}
