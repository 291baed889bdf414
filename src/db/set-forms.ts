// A statement's set form: one text that serves many values vectors at once as a set (the vectors joined
// once, each vector's rows told apart by `batch_k`), instead of running the statement once per vector as
// a LATERAL copy (coalesced-statements.ts). PostgreSQL then sets up and runs each node of the plan once
// per batch rather than once per vector. Whoever builds a statement may give its set form here; the
// coalescer uses it for a batch whose vectors differ only in the positions the form allows.

/** Where the vectors go in a set form's text: replaced by a row source `q` with `batch_k` and a column `v<n>` per varying position. */
export const BATCH_VECTORS = '/*batch vectors*/';

export interface SetForm {
  /**
   * The statement over the vectors at BATCH_VECTORS: for each vector (batch_k) exactly the rows the
   * statement returns with that vector's values, same columns after `batch_k`, ordered by batch_k and
   * then in the statement's own order. `$n` of a varying position is replaced by `q.v<n>`.
   */
  text: string;
  /** The (1-based) parameter positions that may differ between the vectors. */
  varying: ReadonlySet<number>;
}

/** Set forms by statement text, at most this many (then all are forgotten). */
const MAX_SET_FORMS = 512;
const forms = new Map<string, SetForm>();

/** The set form given for `text`, if any. */
export const setFormOf = (text: string): SetForm | undefined => forms.get(text);

/** Gives `text`'s set form; `build` runs only when none is known for it. */
export function giveSetForm(text: string, build: () => SetForm): void {
  if (forms.has(text)) return;
  if (forms.size >= MAX_SET_FORMS) forms.clear();
  forms.set(text, build());
}

/** How many set forms are known (for tests). */
export const setFormsKnown = (): number => forms.size;
