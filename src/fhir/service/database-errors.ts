// PostgreSQL errors that a request can cause, as the FHIR errors a client should get instead of a 500.
// Input is checked before it reaches the database; these are the cases no check can foresee
// (a statement running too long, a deadlock between two transactions) and a safety net.
import { FhirError } from '../../common/errors.ts';
import { RequestAbortedError } from '../../db/request-scope.ts';
import { PoolWaitTimeoutError } from '../../db/pool.ts';

export interface DatabaseErrorContext {
  statementTimeoutMs: number;
}

/** The FHIR error for a database error, or undefined when it is a server fault (500). */
export function fhirErrorForDatabaseError(err: Error & { code?: unknown }, ctx: DatabaseErrorContext): FhirError | undefined {
  if (err instanceof RequestAbortedError) return new FhirError(400, err.message, 'incomplete');
  // Overload, not a fault of the request: the client may retry later.
  if (err instanceof PoolWaitTimeoutError) {
    return new FhirError(
      503,
      `No database connection became free within ${err.waitTimeoutMs} ms (DSF_FHIR_DB_POOL_WAIT_TIMEOUT_MS; pool of ${err.max}, DSF_FHIR_DB_POOL_MAX); the server is overloaded, retry later`,
      'transient',
    );
  }
  const code = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : undefined;
  if (!code) return undefined;
  // too_many_connections, cannot_connect_now: the database server refuses new connections for now.
  if (code === '53300' || code === '57P03') return new FhirError(503, 'The database accepts no further connections now; retry later', 'transient');
  if (code === '57014') {
    if (/statement timeout/.test(err.message)) {
      return new FhirError(
        400,
        `The request was stopped after running ${ctx.statementTimeoutMs} ms in the database (DSF_FHIR_STATEMENT_TIMEOUT_MS); narrow the search or ask for smaller pages`,
        'too-costly',
      );
    }
    return new FhirError(400, 'The request was cancelled', 'incomplete');
  }
  if (code === '40P01' || code === '40001') return new FhirError(409, 'The request conflicted with a concurrent one and was rolled back; it may be repeated', 'conflict');
  if (code === '54001' || code === '54000') return new FhirError(400, 'The request is too complex for the database', 'too-costly');
  // Class 22: data exceptions, i.e. a value the database refuses.
  if (code.startsWith('22')) return new FhirError(400, `The database refused a value of the request: ${err.message}`, 'invalid');
  return undefined;
}
