// The DMS's result and the TTP's report are the answers the research platform (HRP) waits for; if one
// is lost, the HRP's wait runs out and the researcher learns nothing of what the site did. So their
// message end events run in a job of their own (camunda:asyncBefore) with bounded retries and growing
// waits (failedJobRetryTimeCycle, `dev.dsf.data.sharing.result.retry`), and a send that failed before the
// request left (the HRP's FHIR server down or unreachable) fails that job, to be sent again later.
// A request that may have reached the HRP (reset, read timeout) or that the HRP answered with an error
// is not sent again: a second Task could be a duplicate, and a refusal would be refused again.
import { errorMessageOf, FhirConnectionError, DefaultMessageEndEventErrorHandler, type HandledError, type ProcessPluginApi, type SendTaskValues, type Variables } from '../../../src/plugin-api/index.ts';

export class RetryUnsentAnswer extends DefaultMessageEndEventErrorHandler {
  constructor(private readonly what: string) {
    super();
  }
  override async handleException(api: ProcessPluginApi, variables: Variables, values: SendTaskValues, error: unknown): Promise<HandledError> {
    if (error instanceof FhirConnectionError && !error.requestSent) {
      const to = variables.getTarget()?.organizationIdentifierValue ?? '?';
      api.logger.warn(`Data sharing: ${this.what} for ${variables.getBusinessKey()} not delivered to ${to}, sent again later: ${errorMessageOf(error)}`);
      // Thrown on: the job fails and the engine runs it again after the next wait (an incident when none is left).
      throw error;
    }
    return super.handleException(api, variables, values, error);
  }
}
