// _summary and _elements: subsets of a resource chosen by the R4 definitions (isSummary, min), marked
// with the SUBSETTED tag so that nobody mistakes them for the whole resource.
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../common/errors.ts';
import { typeInfo, type ElementInfo } from '../model/type-model.ts';
import { MAX_JSON_DEPTH } from '../model/nesting-limits.ts';

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';
export const SUMMARY_MODES: readonly SummaryMode[] = ['true', 'text', 'data', 'count', 'false'];

export const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' } as const;

type Json = Record<string, unknown>;

/** The element a JSON key ('status', '_status', 'valueString') belongs to. */
function elementOf(typeName: string, key: string): ElementInfo | undefined {
  return typeInfo(typeName)?.byName.get(key.charCodeAt(0) === 95 /* '_' */ ? key.slice(1) : key);
}

const isMandatory = (el: ElementInfo) => el.min > 0;

/**
 * The summary form of an object of the given type: summary and mandatory elements only. Inside those,
 * backbone elements (Subscription.channel, Bundle.entry) are filtered by the same rule; data types
 * (HumanName, Identifier, ...) are kept whole.
 */
function summaryOf(value: Json, typeName: string, depth = 1): Json {
  // Input deeper than this is refused (json-parse.ts); beyond it a subtree is kept whole rather than recursed into.
  if (depth > MAX_JSON_DEPTH) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'resourceType') {
      out[key] = v;
      continue;
    }
    const el = elementOf(typeName, key);
    if (!el || !(el.summary || isMandatory(el))) continue;
    const backbone = !el.primitive && !el.resource && typeInfo(el.type)?.kind === 'backbone';
    if (!backbone || key.charCodeAt(0) === 95) out[key] = v;
    else out[key] = Array.isArray(v) ? v.map((item) => (item && typeof item === 'object' ? summaryOf(item as Json, el.type, depth + 1) : item)) : summaryOf(v as Json, el.type, depth + 1);
  }
  return out;
}

/** Top-level elements kept whatever is selected: id, meta and the mandatory ones. */
function alwaysKept(resourceType: string, key: string): boolean {
  if (key === 'resourceType' || key === 'id' || key === 'meta') return true;
  const el = elementOf(resourceType, key);
  return !!el && isMandatory(el);
}

function pick(resource: Json, keep: (key: string) => boolean): Json {
  return Object.fromEntries(Object.entries(resource).filter(([k]) => keep(k)));
}

function markSubsetted(resource: Json): Resource {
  const meta = (resource.meta as Json | undefined) ?? {};
  const tags = (meta.tag as { system?: string; code?: string }[] | undefined) ?? [];
  const already = tags.some((t) => t.system === SUBSETTED.system && t.code === SUBSETTED.code);
  return { ...resource, meta: { ...meta, tag: already ? tags : [...tags, { ...SUBSETTED }] } } as unknown as Resource;
}

/** Applies _summary=true|text|data; false, count and no value leave the resource as it is. */
export function summarize(resource: Resource, mode: SummaryMode | undefined): Resource {
  if (!mode || mode === 'false' || mode === 'count') return resource;
  const r = resource as unknown as Json;
  const type = resource.resourceType;
  if (mode === 'data') return markSubsetted(pick(r, (k) => k !== 'text'));
  if (mode === 'text') return markSubsetted(pick(r, (k) => k === 'text' || alwaysKept(type, k)));
  return markSubsetted({ ...summaryOf(r, type), ...pick(r, (k) => k === 'id' || k === 'meta') });
}

/** Applies _elements: the named top-level elements (a choice by its base name, 'value') plus id, meta and mandatory ones. */
export function selectElements(resource: Resource, elements: readonly string[] | undefined): Resource {
  if (!elements?.length) return resource;
  const wanted = new Set(elements);
  const type = resource.resourceType;
  return markSubsetted(
    pick(resource as unknown as Json, (k) => {
      if (alwaysKept(type, k)) return true;
      const el = elementOf(type, k);
      return !!el && (wanted.has(el.name) || (el.choiceOf !== undefined && wanted.has(el.choiceOf)));
    }),
  );
}

/** Parses a _summary value; 400 for anything FHIR does not define. */
export function parseSummaryMode(value: string): SummaryMode {
  if (!(SUMMARY_MODES as readonly string[]).includes(value)) throw badRequest(`Unsupported _summary value '${value}' (use ${SUMMARY_MODES.join(', ')})`);
  return value as SummaryMode;
}

/** Parses _elements ('identifier,status'); 400 for names that are not elements of the type. */
export function parseElements(resourceType: string, value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const type = typeInfo(resourceType);
  for (const name of names) {
    const known = type?.byName.has(name) || type?.elements.some((e) => e.choiceOf === name);
    if (!known) throw badRequest(`Unknown element '${name}' in _elements for ${resourceType}`);
  }
  return names;
}

/** The subset a read asks for with _summary or _elements (the last of each wins), or the resource itself. */
export function applyResultParameters(resource: Resource, query: [string, string][]): Resource {
  const summary = query.filter(([k]) => k === '_summary').at(-1)?.[1];
  const elements = query.filter(([k]) => k === '_elements').at(-1)?.[1];
  if (summary !== undefined) return summarize(resource, parseSummaryMode(summary));
  if (elements !== undefined) return selectElements(resource, parseElements(resource.resourceType, elements));
  return resource;
}
