// Parses a FHIR search query string into a SearchRequest. Unknown or malformed parameters are
// errors under Prefer: handling=strict and warnings (ignored) under lenient handling.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { typeInfo } from '../model/type-model.ts';
import { searchParameter, type SearchParamDef } from './parameters.ts';
import { paramTypeModule } from './param-types/index.ts';
import { parseDateValue } from './param-types/date.ts';
import { FORBIDDEN_CHARACTER_RULE, forbiddenCharacter } from '../model/fhir-characters.ts';

export interface Filter {
  /** Parameter code, or '_id' / '_lastUpdated'. */
  code: string;
  def?: SearchParamDef;
  modifier?: string;
  /** OR-ed values (comma separated in the query). */
  values: string[];
}

export interface IncludeSpec {
  sourceType: string;
  param: string;
  targetType?: string;
  /** The types the parameter may point to (from its definition); empty when any. */
  targets?: string[];
  /** The parameter holds canonicals: included by url (and version), not by id. */
  canonical?: boolean;
}

export interface SortSpec {
  code: string;
  descending: boolean;
}

export interface SearchRequest {
  resourceType: string;
  filters: Filter[];
  sort: SortSpec[];
  count: number;
  page: number;
  /** _offset: the first match of the page, in the links of a page that ended early (its byte bound); overrides _page. */
  offset?: number;
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  summary?: 'true' | 'text' | 'data' | 'count' | 'false';
  /** _elements: the top-level elements to return (id, meta and mandatory ones are always returned). */
  elements?: string[];
  warnings: OperationOutcomeIssue[];
  /** The parameters that were understood, to build paging links. */
  canonicalParams: [string, string][];
}

const RESULT_PARAMS = new Set(['_count', '_page', '_offset', '_sort', '_include', '_revinclude', '_summary', '_format', '_pretty', '_total', '_elements']);
const TOTAL_MODES = ['none', 'estimate', 'accurate'];

export interface ParseOptions {
  strict: boolean;
  defaultCount: number;
  maxCount?: number;
  /**
   * Most parameters in one search (AND: each adds a join the planner must order, so the cost grows
   * faster than their number); 400 beyond (DSF_FHIR_MAX_SEARCH_PARAMETERS).
   */
  maxParameters?: number;
  /** Most comma-separated (OR-ed) values over all parameters; 400 beyond (DSF_FHIR_MAX_SEARCH_VALUES). */
  maxValues?: number;
}

/** Parameters that only choose the representation; they cost nothing. */
const FORMAT_PARAMS = new Set(['_format', '_pretty']);

function checkSearchSize(query: [string, string][], opts: ParseOptions): void {
  let parameters = 0;
  let values = 0;
  for (const [key, value] of query) {
    if (FORMAT_PARAMS.has(key)) continue;
    parameters++;
    if (!RESULT_PARAMS.has(key)) values += splitValues(value).length;
  }
  if (opts.maxParameters !== undefined && parameters > opts.maxParameters) {
    throw new FhirError(400, `The search has ${parameters} parameters; this server allows at most ${opts.maxParameters} (DSF_FHIR_MAX_SEARCH_PARAMETERS)`, 'too-costly');
  }
  if (opts.maxValues !== undefined && values > opts.maxValues) {
    throw new FhirError(400, `The search has ${values} values (comma-separated values counted one by one); this server allows at most ${opts.maxValues} (DSF_FHIR_MAX_SEARCH_VALUES)`, 'too-costly');
  }
}

/** Splits on commas not escaped with a backslash, and unescapes \, \| \$ \\ . */
export function splitValues(raw: string): string[] {
  // Without escapes (nearly every value) it is a plain split, without building the value char by char.
  if (raw.indexOf('\\') < 0) return raw.split(',');
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '\\' && i + 1 < raw.length) {
      cur += raw[++i];
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseSearchRequest(resourceType: string, query: [string, string][], opts: ParseOptions): SearchRequest {
  const req: SearchRequest = {
    resourceType,
    filters: [],
    sort: [],
    count: opts.defaultCount,
    page: 1,
    include: [],
    revinclude: [],
    warnings: [],
    canonicalParams: [],
  };
  const problem = (msg: string, param: string) => {
    if (opts.strict) throw new FhirError(400, msg, 'invalid');
    req.warnings.push({ severity: 'warning', code: 'not-supported', diagnostics: `${msg}; parameter ignored`, expression: [param] });
  };
  const keep = (k: string, v: string) => req.canonicalParams.push([k, v]);

  checkSearchSize(query, opts);
  for (const [key, value] of query) {
    // Whatever the handling: such a value cannot match anything stored, and PostgreSQL refuses NUL.
    const bad = forbiddenCharacter(key) ?? forbiddenCharacter(value);
    if (bad) throw new FhirError(400, [{ severity: 'error', code: 'invalid', diagnostics: `The search parameter '${key}' contains ${bad} (${FORBIDDEN_CHARACTER_RULE})`, expression: [key] }]);
  }
  for (const [key, value] of query) {
    if (RESULT_PARAMS.has(key)) {
      switch (key) {
        case '_count': {
          const n = Number(value);
          if (!Number.isInteger(n) || n < 0) problem(`_count must be a non-negative integer, got '${value}'`, key);
          else {
            req.count = Math.min(n, opts.maxCount ?? 1000);
            keep(key, String(req.count));
          }
          break;
        }
        case '_page': {
          const n = Number(value);
          // Beyond 2^53 the page number cannot even be represented: never a link this server made.
          if (Number.isInteger(n) && n > Number.MAX_SAFE_INTEGER) throw new FhirError(400, `_page must be at most ${Number.MAX_SAFE_INTEGER}, got '${value}'`, 'invalid');
          if (!Number.isInteger(n) || n < 1) problem(`_page must be a positive integer, got '${value}'`, key);
          else req.page = n;
          break;
        }
        case '_offset': {
          const n = Number(value);
          if (!Number.isSafeInteger(n) || n < 0) throw new FhirError(400, `_offset must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got '${value}'`, 'invalid');
          req.offset = n;
          break;
        }
        case '_total':
          // Every mode is answered with the exact total, which 'none' and 'estimate' allow.
          if (!TOTAL_MODES.includes(value)) problem(`Unsupported _total value '${value}' (use ${TOTAL_MODES.join(', ')})`, key);
          break;
        case '_sort':
          for (const s of value.split(',')) {
            const descending = s.startsWith('-');
            const code = s.replace(/^[-+]/, '');
            const def = searchParameter(resourceType, code);
            if (code === '_id' || code === '_lastUpdated' || (def && paramTypeModule(def.type).sortColumn)) {
              req.sort.push({ code, descending });
            } else problem(`Cannot sort by '${code}' for ${resourceType}`, key);
          }
          if (req.sort.length) keep(key, req.sort.map((s) => (s.descending ? '-' : '') + s.code).join(','));
          break;
        case '_include':
        case '_revinclude': {
          const [sourceType, param, targetType] = value.split(':');
          const def = sourceType && param ? searchParameter(sourceType, param) : undefined;
          if (!def || def.type !== 'reference' || (key === '_include' && sourceType !== resourceType) || (targetType && !def.targets.includes(targetType) && def.targets.length > 0)) {
            problem(`Unsupported ${key} value '${value}'`, key);
          } else {
            (key === '_include' ? req.include : req.revinclude).push({ sourceType: sourceType!, param: param!, targetType, targets: def.targets, canonical: def.canonical });
            keep(key, value);
          }
          break;
        }
        case '_summary':
          if (['true', 'text', 'data', 'count', 'false'].includes(value)) {
            req.summary = value as SearchRequest['summary'];
            keep(key, value);
          } else problem(`Unsupported _summary value '${value}'`, key);
          break;
        case '_elements': {
          const names = value.split(',').map((n) => n.trim()).filter(Boolean);
          const type = typeInfo(resourceType);
          const unknown = names.filter((n) => !type?.byName.has(n) && !type?.elements.some((e) => e.choiceOf === n));
          if (unknown.length) problem(`Unknown element(s) ${unknown.join(', ')} in _elements for ${resourceType}`, key);
          const known = names.filter((n) => !unknown.includes(n));
          if (known.length) {
            req.elements = known;
            keep(key, known.join(','));
          }
          break;
        }
        default:
          break; // _format, _pretty: handled by the REST layer
      }
      continue;
    }

    const [code, modifier] = key.split(':', 2) as [string, string | undefined];
    const values = splitValues(value);
    if (code === '_id') {
      if (modifier) problem(`Modifier ':${modifier}' is not supported on _id`, key);
      else {
        req.filters.push({ code, values });
        keep(key, value);
      }
      continue;
    }
    if (code === '_lastUpdated') {
      if (modifier || values.some((v) => !parseDateValue(v))) problem(`Invalid _lastUpdated value '${value}'`, key);
      else {
        req.filters.push({ code, values });
        keep(key, value);
      }
      continue;
    }
    const def = searchParameter(resourceType, code);
    if (!def) {
      problem(`Unknown search parameter '${code}' for ${resourceType}`, key);
      continue;
    }
    const module = paramTypeModule(def.type);
    if (modifier && !module.modifiers.includes(modifier) && !(def.type === 'reference' && def.targets.includes(modifier))) {
      problem(`Modifier ':${modifier}' is not supported on ${resourceType}.${code}`, key);
      continue;
    }
    const malformed = values.map((v) => module.valueProblem?.(v)).find((p) => p !== undefined);
    if (malformed) {
      problem(`Invalid ${def.type === 'date' ? 'date' : `${def.type} value`} '${value}' for ${resourceType}.${code} (${malformed})`, key);
      continue;
    }
    if (values.some((v) => v === '')) {
      problem(`Empty value for ${key}`, key);
      continue;
    }
    req.filters.push({ code, def, modifier, values });
    keep(key, value);
  }
  return req;
}
