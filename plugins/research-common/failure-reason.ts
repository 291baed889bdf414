// What another site learns when a local step with the data repository fails: the kind of failure only,
// from a fixed set of texts. The full error (local URLs, the repository's messages, which may name
// patients or resources) stays in this site's log.
import { FhirHttpError, isNotReachable } from '../../src/plugin-api/index.ts';
import { CriterionError } from './cohort-selection.ts';

export function repositoryFailureReason(error: unknown, step: string): string {
  if (error instanceof CriterionError) return `criterion refused: ${error.message}`;
  if (isNotReachable(error)) return 'local data repository not reachable';
  if (error instanceof FhirHttpError) return `local data repository answered HTTP ${error.status}`;
  return `${step} failed`;
}
