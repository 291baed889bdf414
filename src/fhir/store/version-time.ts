// The time a new version records (meta.lastUpdated, last_updated): the current time as ISO 8601 text
// in UTC with milliseconds, its text up to the seconds made once per second (isoTimeFormatter). The
// time part of new ids (resource-ids.ts) is formatted once per millisecond (perMillisecond).

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

/**
 * A formatter of whole milliseconds as Date.prototype.toISOString() gives them, which makes the text up
 * to the seconds once per second: under load most creates see a new millisecond, and toISOString cost
 * them about 3 µs each in the loaded server's profile (docs/performance.md, fifteenth session).
 */
export function isoTimeFormatter(): (ms: number) => string {
  let second = NaN;
  let prefix = '';
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      // 'YYYY-MM-DDTHH:MM:SS.' (or the extended year's form): toISOString always ends in '.mmmZ'.
      prefix = new Date(s * 1000).toISOString().slice(0, -4);
      second = s;
    }
    const milli = ms - s * 1000;
    return `${prefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  };
}

const formatIsoTime = isoTimeFormatter();

/** The current time as Date.prototype.toISOString() gives it (a millisecond cache on top would save nothing: 18 ns a format). */
export const versionTime = (): string => formatIsoTime(Date.now());
