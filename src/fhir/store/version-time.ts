// The time a new version records (meta.lastUpdated, last_updated): the current time as ISO 8601 text
// in UTC with milliseconds. Texts of the clock are made once per millisecond (perMillisecond, also for
// the time part of new ids, resource-ids.ts): the writes of one event-loop turn mostly fall in the same
// millisecond, and formatting costs about ten times the clock's read.

/** A function returning format(Date.now()), formatting anew only when the millisecond has changed. */
export function perMillisecond(format: (ms: number) => string): () => string {
  let formattedMs = -1;
  let formatted = '';
  return () => {
    const ms = Date.now();
    if (ms !== formattedMs) {
      formatted = format(ms);
      formattedMs = ms;
    }
    return formatted;
  };
}

/** The current time as Date.prototype.toISOString() gives it. */
export const versionTime = perMillisecond((ms) => new Date(ms).toISOString());
