// Parses FHIR references ("Type/id", "Type/id/_history/n", absolute URLs) relative to our base URL.
export interface ParsedReference {
  type: string;
  id: string;
  version?: string;
  /** True when the reference points into this server. */
  local: boolean;
  /** Base URL for absolute references to other servers. */
  base?: string;
}

const REL_RE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

export function parseReference(ref: string, baseUrl: string): ParsedReference | undefined {
  const rel = REL_RE.exec(ref);
  if (rel) return { type: rel[1]!, id: rel[2]!, version: rel[3], local: true };
  if (!/^https?:\/\//.test(ref)) return undefined;
  const m = /^(.*)\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/.exec(ref);
  if (!m) return undefined;
  const base = m[1]!;
  const local = stripSlash(base) === stripSlash(baseUrl);
  return { type: m[2]!, id: m[3]!, version: m[4], local, base: local ? undefined : base };
}

function stripSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}
