// Turns a resource into the rows of search_index: one per value of each supported search parameter,
// computed with the parameter's FHIRPath expression.
import { searchParameters, type SearchParamDef } from './parameters.ts';
import { dateRange } from './date-range.ts';
import { parseReference } from './reference.ts';

export interface IndexRow {
  param: string;
  system: string | null;
  code: string | null;
  norm: string | null;
  refId: string | null;
  lo: string | null;
  hi: string | null;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lower case without diacritics: FHIR string search is case- and accent-insensitive. */
export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
}

function row(param: string, r: Partial<IndexRow>): IndexRow {
  return { param, system: r.system ?? null, code: r.code ?? null, norm: r.norm ?? null, refId: r.refId ?? null, lo: r.lo ?? null, hi: r.hi ?? null };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function tokenRows(p: SearchParamDef, v: unknown, out: IndexRow[]): void {
  if (typeof v === 'string' || typeof v === 'number') out.push(row(p.code, { code: String(v) }));
  else if (typeof v === 'boolean') out.push(row(p.code, { code: String(v) }));
  else if (isObj(v)) {
    if (Array.isArray(v.coding)) for (const c of v.coding) tokenRows(p, c, out); // CodeableConcept
    else if ('value' in v || 'code' in v) {
      // Identifier, Coding, ContactPoint
      const code = (v.code ?? v.value) as unknown;
      if (typeof code === 'string') out.push(row(p.code, { system: typeof v.system === 'string' ? v.system : null, code }));
    }
  }
}

/** HumanName and Address hold their strings one or two levels down; nothing searchable is deeper. */
const MAX_STRING_DEPTH = 4;

function stringRows(p: SearchParamDef, v: unknown, out: IndexRow[], depth = 0): void {
  if (typeof v === 'string') out.push(row(p.code, { code: v, norm: normalizeString(v) }));
  else if (isObj(v) && depth < MAX_STRING_DEPTH) for (const x of Object.values(v)) stringRows(p, Array.isArray(x) ? x.join(' ') : x, out, depth + 1); // HumanName, Address
}

function referenceRows(p: SearchParamDef, v: unknown, baseUrl: string, out: IndexRow[]): void {
  if (typeof v === 'string') {
    // canonical
    out.push(row(p.code, { code: v.split('|')[0], norm: v }));
    return;
  }
  if (!isObj(v)) return;
  if (typeof v.reference === 'string') {
    const ref = parseReference(v.reference, baseUrl);
    if (ref) out.push(row(p.code, { system: ref.type, code: ref.id, norm: ref.local ? `${ref.type}/${ref.id}` : v.reference, refId: ref.local && UUID_RE.test(ref.id) ? ref.id : null }));
    else out.push(row(p.code, { norm: v.reference }));
  }
  if (isObj(v.identifier) && typeof v.identifier.value === 'string') {
    out.push(row(`${p.code}:identifier`, { system: typeof v.identifier.system === 'string' ? v.identifier.system : null, code: v.identifier.value }));
  }
}

/** Told about a search parameter whose FHIRPath expression failed on a resource (its value is not searchable). */
export type IndexWarning = (problem: { resourceType: string; id?: string; param: string; error: Error }) => void;

export function computeIndexRows(resource: Obj, baseUrl: string, warn?: IndexWarning): IndexRow[] {
  const out: IndexRow[] = [];
  for (const p of searchParameters(resource.resourceType as string).values()) {
    let values: unknown[];
    try {
      values = p.evaluate(resource);
    } catch (e) {
      // A value FHIRPath cannot handle is not searchable; the resource is stored all the same.
      warn?.({ resourceType: resource.resourceType as string, id: resource.id as string | undefined, param: p.code, error: e as Error });
      continue;
    }
    for (const v of values) {
      switch (p.type) {
        case 'token':
          tokenRows(p, v, out);
          break;
        case 'string':
          stringRows(p, v, out);
          break;
        case 'uri':
          if (typeof v === 'string') out.push(row(p.code, { code: v, norm: v }));
          break;
        case 'reference':
          referenceRows(p, v, baseUrl, out);
          break;
        case 'date': {
          const range = isObj(v) ? periodRange(v) : typeof v === 'string' ? dateRange(v) : undefined;
          if (range) out.push(row(p.code, { lo: range.lo.toISOString(), hi: range.hi.toISOString() }));
          break;
        }
        default:
          break;
      }
    }
  }
  return out;
}

function periodRange(p: Obj): { lo: Date; hi: Date } | undefined {
  const start = typeof p.start === 'string' ? dateRange(p.start) : undefined;
  const end = typeof p.end === 'string' ? dateRange(p.end) : undefined;
  if (!start && !end) return undefined;
  return { lo: start?.lo ?? new Date(-8.64e15), hi: end?.hi ?? new Date(8.64e15) };
}
