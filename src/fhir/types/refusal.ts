// A refusal by an authorization rule: 403 with an OperationOutcome whose diagnostics start with the
// rule's name ("Task create (requested): ..."), so clients and tests can tell which rule refused.
import { FhirError } from '../../common/errors.ts';

export function refusal(rule: string, reason: string): FhirError {
  return new FhirError(403, `${rule}: ${reason}`, 'forbidden');
}
