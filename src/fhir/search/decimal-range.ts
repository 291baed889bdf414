// The range a searched number stands for (R4 3.1.1.4.2): its precision implies [value - half a unit of
// its last digit, value + half a unit), so 100 is [99.5, 100.5) and 100.00 is [99.995, 100.005);
// approximately (ap) is within 10 % of the value. Computed exactly on the decimal digits, so that the
// bounds given to PostgreSQL (numeric) and those compared in memory come from the same decimal text.

const NUMBER = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

export interface DecimalRange {
  value: string;
  lo: string;
  hi: string;
  apLo: string;
  apHi: string;
}

/** n × 10^-scale as decimal text. */
function format(n: bigint, scale: number): string {
  const negative = n < 0n;
  let digits = (negative ? -n : n).toString();
  if (scale <= 0) return `${negative ? '-' : ''}${digits}${'0'.repeat(-scale)}`;
  digits = digits.padStart(scale + 1, '0');
  const int = digits.slice(0, -scale);
  const frac = digits.slice(-scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** The range of a searched number; undefined when the text is no number. */
export function decimalRange(text: string): DecimalRange | undefined {
  const m = NUMBER.exec(text);
  if (!m) return undefined;
  const [, sign, int, frac = '', exp = '0'] = m;
  const exponent = Number(exp);
  // Beyond this the text is no number anyone searches for (and BigInt work would grow without bound).
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000 || int!.length + frac.length > 1000) return undefined;
  const mantissa = BigInt(`${sign}${int}${frac}`);
  const scale = frac.length - exponent;
  // One more digit of scale holds the half unit (5) and the tenth of the value exactly.
  const tenfold = mantissa * 10n;
  const magnitude = mantissa < 0n ? -mantissa : mantissa;
  return {
    value: format(mantissa, scale),
    lo: format(tenfold - 5n, scale + 1),
    hi: format(tenfold + 5n, scale + 1),
    apLo: format(tenfold - magnitude, scale + 1),
    apHi: format(tenfold + magnitude, scale + 1),
  };
}
