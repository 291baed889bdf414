// Assigns the items of a sliced element to its slices by the slicing discriminators and checks
// closed slicing and slice cardinalities. Supported discriminators: value and pattern (including
// `url` of extension slices typed by profile, and paths into a pattern such as `type.coding`),
// exists, and type on `$this`. A slice named `@default` (FHIR's default slice) takes the items that
// match no other slice, so a closed slicing with a default slice accepts them, under its constraints.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Discriminator, ElementNode } from './element-tree.ts';
import { matchesPattern } from './value-matching.ts';

const EXTENSION_URL_DISCRIMINATOR: Discriminator[] = [{ type: 'value', path: 'url' }];
const DEFAULT_SLICE = '@default';

/** Expected values of one discriminator for one slice; undefined when the slice does not determine them. */
type Expectation = unknown[] | undefined;

function segmentsOf(path: string): string[] {
  return path === '$this' ? [] : path.split('.').filter((s) => s !== '$this');
}

/** What classify needs of a sliced element, computed once per element (it runs on every write). */
export interface SlicePlan {
  discriminators: Discriminator[];
  /** Per discriminator: its path's segments. */
  segments: string[][];
  /** Per slice, per discriminator: the expected values. */
  expectations: Expectation[][];
  /** Per slice: whether some discriminator pins it down (one that pins none matches nothing). */
  determined: boolean[];
  /** Index of the `@default` slice, -1 without one. */
  defaultIndex: number;
}

// Each sliced element's plan, made on its first use; kept here rather than on the node so that the
// element tree does not depend on slicing.
const plans = new WeakMap<ElementNode, SlicePlan>();

function planOf(entry: ElementNode): SlicePlan {
  let plan = plans.get(entry);
  if (!plan) plans.set(entry, (plan = newPlan(entry)));
  return plan;
}

function newPlan(entry: ElementNode): SlicePlan {
  const discriminators = entry.slicing?.discriminators.length ? entry.slicing.discriminators : EXTENSION_URL_DISCRIMINATOR;
  const expectations = entry.slices.map((s) => discriminators.map((d) => expectationFor(s, d)));
  return {
    discriminators,
    segments: discriminators.map((d) => segmentsOf(d.path)),
    expectations,
    // A discriminator a slice does not pin down (no fixed value there) does not restrict it.
    determined: expectations.map((perDiscriminator) => perDiscriminator.some((e) => e !== undefined)),
    defaultIndex: entry.slices.findIndex((s) => s.sliceName === DEFAULT_SLICE),
  };
}

function navigate(values: unknown[], segments: string[]): unknown[] {
  let current = values;
  for (const seg of segments) {
    const next: unknown[] = [];
    const ext = /^extension\('(.+)'\)$/.exec(seg);
    for (const c of current) {
      // `value` of a primitive is the primitive itself (e.g. slices of Endpoint.payloadMimeType by fixedCode).
      if (seg === 'value' && c !== null && typeof c !== 'object') {
        next.push(c);
        continue;
      }
      if (typeof c !== 'object' || c === null) continue;
      const obj = c as Record<string, unknown>;
      if (ext) {
        for (const x of (obj.extension as unknown[] | undefined) ?? []) if ((x as { url?: string })?.url === ext[1]) next.push(x);
        continue;
      }
      let v = obj[seg];
      if (v === undefined) {
        // A choice element addressed without its type suffix (`value` for valueString).
        const key = Object.keys(obj).find((k) => k.startsWith(seg) && k.length > seg.length && k.charAt(seg.length) >= 'A' && k.charAt(seg.length) <= 'Z');
        v = key ? obj[key] : undefined;
      }
      if (Array.isArray(v)) next.push(...v);
      else if (v !== undefined) next.push(v);
    }
    current = next;
  }
  return current;
}

/** The url an extension slice's instances carry: its profile canonical without `|version`. */
function extensionProfile(node: ElementNode): string | undefined {
  const t = node.types[0];
  return t?.code === 'Extension' ? t.profiles[0]?.split('|')[0] : undefined;
}

function expectedValues(slice: ElementNode, path: string): Expectation {
  const segments = segmentsOf(path);
  let node = slice;
  for (let i = 0; i < segments.length; i++) {
    const known = node.fixed ?? node.pattern;
    if (known !== undefined) return navigate([known], segments.slice(i));
    const seg = segments[i]!;
    const next = node.childByName.get(seg);
    if (seg === 'url' && i === segments.length - 1 && next?.fixed === undefined) {
      const profile = extensionProfile(node);
      if (profile) return [profile];
    }
    if (!next) return undefined;
    node = next;
  }
  const known = node.fixed ?? node.pattern;
  return known === undefined ? undefined : [known];
}

function nodeAt(slice: ElementNode, path: string): ElementNode | undefined {
  let node: ElementNode | undefined = slice;
  for (const seg of segmentsOf(path)) node = node?.childByName.get(seg);
  return node;
}

function expectationFor(slice: ElementNode, d: Discriminator): Expectation {
  switch (d.type) {
    case 'value':
    case 'pattern':
      return expectedValues(slice, d.path);
    case 'exists': {
      const node = nodeAt(slice, d.path);
      if (!node) return undefined;
      return node.min > 0 ? [true] : node.max === 0 ? [false] : undefined;
    }
    case 'type': {
      const node = nodeAt(slice, d.path);
      return node?.types.length ? node.types.map((t) => t.code) : undefined;
    }
    default:
      return undefined;
  }
}

function matches(item: unknown, d: Discriminator, segments: string[], expected: Expectation): boolean {
  if (!expected) return true;
  const values = navigate([item], segments);
  switch (d.type) {
    case 'value':
    case 'pattern':
      return expected.every((e) => values.some((v) => matchesPattern(v, e)));
    case 'exists':
      return (values.length > 0) === expected[0];
    case 'type':
      return values.some((v) => typeof v === 'object' && v !== null && expected.includes((v as { resourceType?: string }).resourceType));
    default:
      return false;
  }
}

export class SliceClassifier {
  /** For each item, the slice it belongs to (undefined: no slice); reports closed-slicing and slice cardinality errors. */
  classify(entry: ElementNode, items: unknown[], location: string, issues: OperationOutcomeIssue[]): (ElementNode | undefined)[] {
    const { discriminators, segments, expectations, determined, defaultIndex } = planOf(entry);
    const counts = new Array<number>(entry.slices.length).fill(0);
    const assigned = items.map((item, i) => {
      let index = entry.slices.findIndex((_, s) => s !== defaultIndex && determined[s] && discriminators.every((d, di) => matches(item, d, segments[di]!, expectations[s]![di])));
      if (index < 0) index = defaultIndex;
      if (index < 0) {
        if (entry.slicing?.rules === 'closed') {
          issues.push({ severity: 'error', code: 'structure', diagnostics: `${location}[${i}] does not match any slice of the closed slicing`, expression: [`${location}[${i}]`] });
        }
        return undefined;
      }
      counts[index]!++;
      return entry.slices[index];
    });
    entry.slices.forEach((slice, s) => {
      const n = counts[s]!;
      if (n < slice.min) {
        issues.push({ severity: 'error', code: 'required', diagnostics: `${location}:${slice.sliceName}: minimum required = ${slice.min}, but only found ${n}`, expression: [location] });
      }
      if (n > slice.max) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `${location}:${slice.sliceName}: max allowed = ${slice.max}, but found ${n}`, expression: [location] });
      }
    });
    return assigned;
  }
}
