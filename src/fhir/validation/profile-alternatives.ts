// An element whose type lists several profiles (type[].profile) accepts a value that conforms to at
// least one of them. Each profile is tried on its own issue list; when none fits, the closest
// candidate's issues are reported under a summary naming all the alternatives.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

type Issue = OperationOutcomeIssue;

export interface ProfileAttempt {
  url: string;
  issues: Issue[];
}

/** Issues of fixed/pattern mismatches: a candidate whose fixed values match is the one the author meant. */
const fixedValueMismatches = new WeakSet<Issue>();

export function markFixedValueMismatch(issue: Issue): Issue {
  fixedValueMismatches.add(issue);
  return issue;
}

const isError = (i: Issue) => i.severity === 'error' || i.severity === 'fatal';

function rank(attempt: ProfileAttempt): [number, number] {
  const errors = attempt.issues.filter(isError);
  return [errors.filter((i) => fixedValueMismatches.has(i)).length, errors.length];
}

/**
 * The issues to report for a value checked against alternative profiles: those of the first
 * conforming profile (its warnings), else a summary plus the issues of the closest candidate
 * (fewest fixed-value mismatches, then fewest errors).
 */
export function resolveAlternatives(attempts: ProfileAttempt[], location: string): Issue[] {
  const conforming = attempts.find((a) => !a.issues.some(isError));
  if (conforming) return conforming.issues;
  let best = attempts[0]!;
  let bestRank = rank(best);
  for (const attempt of attempts.slice(1)) {
    const r = rank(attempt);
    if (r[0] < bestRank[0] || (r[0] === bestRank[0] && r[1] < bestRank[1])) {
      best = attempt;
      bestRank = r;
    }
  }
  const summary: Issue = {
    severity: 'error',
    code: 'structure',
    diagnostics: `Value conforms to none of the allowed profiles (${attempts.map((a) => a.url).join(', ')}); closest is ${best.url}, issues follow`,
    expression: [location],
  };
  return [summary, ...best.issues];
}
