// The time a new version records (meta.lastUpdated, last_updated): the current time as ISO 8601 text
// in UTC with milliseconds, formatted once per millisecond. The writes of one event-loop turn mostly fall
// in the same millisecond, and formatting a Date costs about ten times the clock's read.

let formattedMs = -1;
let formatted = '';

/** The current time as Date.prototype.toISOString() gives it. */
export function versionTime(): string {
  const ms = Date.now();
  if (ms !== formattedMs) {
    formatted = new Date(ms).toISOString();
    formattedMs = ms;
  }
  return formatted;
}
