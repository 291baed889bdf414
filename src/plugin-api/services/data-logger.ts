// What a process plugin gets as `api.dataLogger`: the reference's process plugin API v2 DataLogger
// (dev.dsf.bpe.v2.service.DataLogger). Logs resource contents for debugging, only when the
// operator enabled data logging (DEV_DSF_LOG_DATA_FILE_ENABLED, DEV_DSF_LOG_DATA_CONSOLE_OUT_ENABLED
// or DEV_DSF_LOG_DATA_CONSOLE_ERR_ENABLED); otherwise every call does nothing.
export interface DataLogger {
  /**
   * Logs `message: <data>`: a FHIR resource (an object with `resourceType`) as compact FHIR JSON,
   * a string as it is, other values as JSON; `null`/`undefined` as `null`. Does nothing when
   * `message` is null or undefined, or when data logging is off.
   */
  log(message: string | null | undefined, data: unknown): void;
  /** True when data logging is enabled; check before building expensive messages. */
  isEnabled(): boolean;
}
