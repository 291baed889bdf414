// Errors that reach a FHIR client: each carries the HTTP status and an OperationOutcome.
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];
export type IssueSeverity = OperationOutcomeIssue['severity'];

export function outcome(severity: IssueSeverity, code: IssueCode, diagnostics: string, expression?: string[]): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity, code, diagnostics };
  if (expression && expression.length) issue.expression = expression;
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

export class FhirError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  readonly headers: Record<string, string>;

  constructor(status: number, issues: OperationOutcome | OperationOutcomeIssue[] | string, code: IssueCode = 'processing', headers: Record<string, string> = {}) {
    const oo: OperationOutcome =
      typeof issues === 'string'
        ? outcome('error', code, issues)
        : Array.isArray(issues)
          ? { resourceType: 'OperationOutcome', issue: issues }
          : issues;
    super(oo.issue?.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; ') || `HTTP ${status}`);
    this.status = status;
    this.outcome = oo;
    this.headers = headers;
  }
}

export const badRequest = (msg: string, code: IssueCode = 'invalid') => new FhirError(400, msg, code);
export const forbidden = (msg: string) => new FhirError(403, msg, 'forbidden');
export const notFound = (msg: string) => new FhirError(404, msg, 'not-found');
export const gone = (msg: string) => new FhirError(410, msg, 'deleted');
export const conflict = (msg: string) => new FhirError(409, msg, 'conflict');
export const preconditionFailed = (msg: string) => new FhirError(412, msg, 'conflict');
export const unprocessable = (msg: string | OperationOutcomeIssue[]) => new FhirError(422, msg, 'invalid');
export const methodNotAllowed = (msg: string) => new FhirError(405, msg, 'not-supported');
export const unauthorized = (msg: string) => new FhirError(401, msg, 'login');
