// The reference reports validation errors on the `@default` slice of Questionnaire.item and
// QuestionnaireResponse.item as warnings: its ResourceValidatorImpl works around a HAPI validator
// problem (hapifhir/org.hl7.fhir.core#193) by downgrading every error whose message names
// `item:@default`. Published plugins rely on it: the DSF Questionnaire profile wants `text` on every
// other item, yet the tutorial's display items have none. HAPI names the slice in messages about the
// slice's own elements (cardinality, fixed values, types), not in invariant failures, so invariants
// (type-code, required-exists, ...) stay errors, as do the base definition's errors on the same items.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { ElementNode } from './element-tree.ts';

const DEFAULT_SLICE = '@default';
const LENIENT_ENTRIES = new Set(['Questionnaire.item', 'QuestionnaireResponse.item']);

/** Whether issues found in an item assigned to `slice` of `entry` are warnings only. */
export function isLenientDefaultSlice(entry: ElementNode, slice: ElementNode): boolean {
  return slice.sliceName === DEFAULT_SLICE && LENIENT_ENTRIES.has(entry.path);
}

/** Turns the errors added to `issues` since index `from` into warnings, except invariant failures. */
export function downgradeDefaultSliceIssues(issues: OperationOutcomeIssue[], from: number, entry: ElementNode): void {
  for (let i = from; i < issues.length; i++) {
    const issue = issues[i]!;
    if (issue.severity !== 'error' || issue.code === 'invariant') continue;
    issues[i] = { ...issue, severity: 'warning', diagnostics: `${issue.diagnostics} (${entry.path}:${DEFAULT_SLICE}, a warning as in the DSF reference)` };
  }
}
