// FHIR dates have a precision; a value stands for the half-open range [lo, hi) it covers.
const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export interface DateRange {
  lo: Date;
  hi: Date;
}

/** The range a FHIR date/dateTime/instant covers; undefined when the text is not a FHIR date. */
export function dateRange(text: string): DateRange | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const offsetMin = !tz || tz === 'Z' ? 0 : (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)));
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  // Date.UTC would roll 2020-02-30 over into March: a day the month does not have is no date.
  if (month > 11 || day < 1 || day > new Date(Date.UTC(year, month + 1, 0)).getUTCDate()) return undefined;
  const utc = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0, ms = 0) => new Date(Date.UTC(yy, mm, dd, hh, mn, ss, ms) - offsetMin * 60_000);
  if (!mo) return { lo: utc(year, 0, 1), hi: utc(year + 1, 0, 1) };
  if (!d) return { lo: utc(year, month, 1), hi: utc(year, month + 1, 1) };
  if (!h) return { lo: utc(year, month, day), hi: utc(year, month, day + 1) };
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 60) return undefined;
  if (s === undefined) {
    const lo = utc(year, month, day, Number(h), Number(mi));
    return { lo, hi: new Date(lo.getTime() + 60_000) };
  }
  const ms = frac ? Math.floor(Number(frac) * 1000) : 0;
  const lo = utc(year, month, day, Number(h), Number(mi), Number(s), ms);
  return { lo, hi: new Date(lo.getTime() + (frac ? 1 : 1000)) };
}
