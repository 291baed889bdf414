// What a criterion may ask of a data repository, checked at the research platform before any query is
// sent and again at each DIC before it counts: only the search parameters a local data repository
// serves for the type (no chains, no _has, no _include, nothing unknown), so a query cannot reach
// beyond the counted type or fail at some sites only.
import { CriterionError, parseCriterion, type Criterion } from './cohort-selection.ts';

/** The parameters a criterion may use per type: those of a data repository (DSF_FHIR_DATA_REPOSITORY). */
export const CRITERION_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  Patient: ['_id', '_lastUpdated', '_profile', '_tag', 'active', 'identifier', 'birthdate', 'gender', 'address-postalcode', 'family', 'given'],
  Condition: ['_id', '_lastUpdated', '_profile', '_tag', 'identifier', 'code', 'subject', 'clinical-status', 'onset-date', 'recorded-date'],
  Observation: ['_id', '_lastUpdated', '_profile', '_tag', 'identifier', 'code', 'subject', 'value-quantity', 'date', 'status', 'category'],
  Consent: ['_id', '_lastUpdated', '_profile', '_tag', 'identifier', 'patient', 'status', 'scope', 'category', 'date'],
};

/** Modifiers that keep a parameter on its own resource (a type modifier or a chain would not). */
const MODIFIERS = new Set(['missing', 'exact', 'contains', 'not', 'text', 'above', 'below', 'in', 'not-in', 'of-type', 'identifier']);

/** The criterion parsed, or CriterionError naming what is refused. */
export function checkCriterion(text: string): Criterion {
  const criterion = parseCriterion(text); // type and result parameters (_include, _has, _count, …)
  const allowed = CRITERION_PARAMETERS[criterion.type] ?? [];
  for (const [name] of criterion.params) {
    if (name.includes('.')) throw new CriterionError(`criterion '${text}': chained parameter ${name} not allowed`);
    const colon = name.indexOf(':');
    const base = colon < 0 ? name : name.slice(0, colon);
    const modifier = colon < 0 ? undefined : name.slice(colon + 1);
    if (!allowed.includes(base)) throw new CriterionError(`criterion '${text}': parameter ${base} is not one of ${criterion.type}'s (${allowed.join(', ')})`);
    if (modifier !== undefined && !MODIFIERS.has(modifier)) throw new CriterionError(`criterion '${text}': modifier :${modifier} not allowed`);
  }
  return criterion;
}
