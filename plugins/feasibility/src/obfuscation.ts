// What a data integration centre reports instead of its exact count: counts below a threshold only as
// "<threshold", others optionally with Laplace noise (differential privacy for a count, sensitivity 1)
// and rounded to a multiple. The threshold applies to the exact count, so a small cohort is never
// reported as a number whatever the noise.

export interface ObfuscationSettings {
  threshold: number;
  rounding: number;
  noise: 'none' | 'laplace';
  epsilon: number;
}

export interface Reported {
  /** The text reported: a number or "<threshold". */
  reported: string;
  /** The reported number, absent below the threshold. */
  count?: number;
}

/** A Laplace(0, scale) sample from a uniform one in [0, 1). */
export function laplaceSample(scale: number, uniform: number): number {
  const u = uniform - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

export function obfuscateCount(count: number, settings: ObfuscationSettings, random: () => number = Math.random): Reported {
  if (count < settings.threshold) return { reported: `<${settings.threshold}` };
  const noisy = settings.noise === 'laplace' ? count + laplaceSample(1 / settings.epsilon, random()) : count;
  const step = Math.max(1, Math.floor(settings.rounding));
  // Rounding never reports less than the threshold for a count at or above it.
  const rounded = Math.max(Math.round(noisy / step) * step, Math.ceil(settings.threshold / step) * step);
  return { reported: String(rounded), count: rounded };
}

/** Settings from plugin property values; every problem at once. */
export function obfuscationSettings(get: (name: string) => string, names: { threshold: string; rounding: string; noise: string; epsilon: string }): ObfuscationSettings {
  const problems: string[] = [];
  const int = (name: string, min: number) => {
    const v = Number(get(name));
    if (!Number.isInteger(v) || v < min) problems.push(`${name} must be an integer >= ${min}, got '${get(name)}'`);
    return v;
  };
  const threshold = int(names.threshold, 0);
  const rounding = int(names.rounding, 1);
  const noise = get(names.noise);
  if (noise !== 'none' && noise !== 'laplace') problems.push(`${names.noise} must be none or laplace, got '${noise}'`);
  const epsilon = Number(get(names.epsilon));
  if (!(epsilon > 0)) problems.push(`${names.epsilon} must be a number > 0, got '${get(names.epsilon)}'`);
  if (problems.length) throw new Error(problems.join('; '));
  return { threshold, rounding, noise: noise as 'none' | 'laplace', epsilon };
}
