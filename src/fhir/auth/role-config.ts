// The role configuration (DEV_DSF_FHIR_SERVER_ROLECONFIG): a YAML list of named rules that make
// certificates and OIDC users local users (practitioners). A rule matches by `thumbprint`, `email`,
// `token-role` or `token-group` (each a value or a list) and grants `dsf-role` values (a role name,
// or `{ROLE: [Type, ...]}` to limit it to resource types) and `practitioner-role` codings
// (`system|code`). Every matching rule applies. Unlike the reference, which logs and skips malformed
// values, every problem is reported so that a bad configuration stops the start.
import { parse } from 'yaml';
import type { Coding } from '@medplum/fhirtypes';
import { DSF_ROLES, type DsfRole, type RoleGrant } from '../types/identity.ts';
import { isDsfResourceType } from '../model/resource-types.ts';

export interface RoleRule {
  name: string;
  thumbprints: string[];
  emails: string[];
  tokenRoles: string[];
  tokenGroups: string[];
  dsfRoles: Map<DsfRole, RoleGrant>;
  practitionerRoles: Coding[];
}

/** What a credential offers for matching; every field may be empty. */
export interface RoleMatchInput {
  thumbprint?: string;
  emails?: readonly string[];
  tokenRoles?: readonly string[];
  tokenGroups?: readonly string[];
}

export interface RoleMatch {
  rules: string[];
  dsfRoles: Map<DsfRole, RoleGrant>;
  practitionerRoles: Coding[];
}

const THUMBPRINT = /^[a-f0-9]{128}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PROPERTIES = ['thumbprint', 'email', 'token-role', 'token-group', 'dsf-role', 'practitioner-role'];

export class RoleConfig {
  constructor(readonly rules: readonly RoleRule[] = []) {}

  static empty(): RoleConfig {
    return new RoleConfig([]);
  }

  /** True when some rule names this thumbprint (such a certificate is a local user). */
  hasThumbprint(thumbprint: string): boolean {
    return this.rules.some((r) => r.thumbprints.includes(thumbprint));
  }

  /** The union of the grants of every rule matching any of the inputs. */
  match(input: RoleMatchInput): RoleMatch {
    const emails = new Set((input.emails ?? []).map((e) => e.toLowerCase()));
    const roles = new Set(input.tokenRoles ?? []);
    const groups = new Set(input.tokenGroups ?? []);
    const result: RoleMatch = { rules: [], dsfRoles: new Map(), practitionerRoles: [] };
    for (const rule of this.rules) {
      const matches =
        (input.thumbprint !== undefined && rule.thumbprints.includes(input.thumbprint)) ||
        rule.emails.some((e) => emails.has(e.toLowerCase())) ||
        rule.tokenRoles.some((r) => roles.has(r)) ||
        rule.tokenGroups.some((g) => groups.has(g));
      if (!matches) continue;
      result.rules.push(rule.name);
      for (const [role, grant] of rule.dsfRoles) result.dsfRoles.set(role, mergeGrants(result.dsfRoles.get(role), grant));
      for (const coding of rule.practitionerRoles) {
        if (!result.practitionerRoles.some((c) => c.system === coding.system && c.code === coding.code)) result.practitionerRoles.push(coding);
      }
    }
    return result;
  }
}

function mergeGrants(a: RoleGrant | undefined, b: RoleGrant): RoleGrant {
  if (a === undefined) return b;
  if (a === 'all' || b === 'all') return 'all';
  return new Set([...a, ...b]);
}

/**
 * Parses the YAML. Problems are appended to `problems` (ConfigReader style, prefixed with the
 * variable name); rules with problems are left out. Empty text, `|` or `""` mean no rules.
 */
export function parseRoleConfig(text: string | undefined, problems: string[], source = 'DEV_DSF_FHIR_SERVER_ROLECONFIG'): RoleConfig {
  if (text === undefined || text.trim() === '' || text.trim() === '|' || text.trim() === '""') return RoleConfig.empty();
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    problems.push(`${source}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    return RoleConfig.empty();
  }
  if (doc === null || doc === undefined) return RoleConfig.empty();
  if (!Array.isArray(doc)) {
    problems.push(`${source}: expected a YAML list of rules ("- rule-name:" entries)`);
    return RoleConfig.empty();
  }
  const rules: RoleRule[] = [];
  doc.forEach((item, index) => {
    if (!isPlainObject(item) || Object.keys(item).length === 0) {
      problems.push(`${source}: entry ${index + 1} must be a map "rule-name: {properties}"`);
      return;
    }
    for (const [name, body] of Object.entries(item)) {
      const rule = parseRule(name, body, (msg) => problems.push(`${source}: rule '${name}': ${msg}`));
      if (rule) rules.push(rule);
    }
  });
  const names = rules.map((r) => r.name);
  for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i))) problems.push(`${source}: rule name '${dup}' is used more than once`);
  return new RoleConfig(rules);
}

function parseRule(name: string, body: unknown, problem: (msg: string) => void): RoleRule | undefined {
  if (!isPlainObject(body)) {
    problem('expected a map of properties');
    return undefined;
  }
  const before = { count: 0 };
  const report = (msg: string) => {
    before.count++;
    problem(msg);
  };
  for (const key of Object.keys(body)) if (!PROPERTIES.includes(key)) report(`unknown property '${key}', expected one of ${PROPERTIES.join(', ')}`);

  const strings = (key: string, check?: (v: string) => string | undefined): string[] => {
    const raw = body[key];
    if (raw === undefined || raw === null) return [];
    const values = Array.isArray(raw) ? raw : [raw];
    const out: string[] = [];
    for (const v of values) {
      if (typeof v !== 'string' || v.trim() === '') {
        report(`${key}: expected non-empty strings, got ${JSON.stringify(v)}`);
        continue;
      }
      const bad = check?.(v.trim());
      if (bad) report(`${key}: ${bad}`);
      else out.push(v.trim());
    }
    return out;
  };

  const thumbprints = strings('thumbprint', (v) => (THUMBPRINT.test(v) ? undefined : `'${v}' is not a SHA-512 thumbprint (128 lowercase hex characters)`));
  const emails = strings('email', (v) => (EMAIL.test(v) ? undefined : `'${v}' is not an e-mail address`));
  const tokenRoles = strings('token-role');
  const tokenGroups = strings('token-group');
  const practitionerRoles = strings('practitioner-role', (v) => (/^[^|\s]+\|[^|\s]+$/.test(v) ? undefined : `'${v}' must have the form system|code`)).map(
    (v): Coding => {
      const [system, code] = v.split('|') as [string, string];
      return { system, code };
    },
  );
  const dsfRoles = parseDsfRoles(body['dsf-role'], report);

  if (thumbprints.length + emails.length + tokenRoles.length + tokenGroups.length === 0 && before.count === 0) {
    report('matches nobody: give thumbprint, email, token-role or token-group');
  }
  if (before.count > 0) return undefined;
  return { name, thumbprints, emails, tokenRoles, tokenGroups, dsfRoles, practitionerRoles };
}

function parseDsfRoles(raw: unknown, report: (msg: string) => void): Map<DsfRole, RoleGrant> {
  const roles = new Map<DsfRole, RoleGrant>();
  if (raw === undefined || raw === null) return roles;
  const add = (name: string, grant: RoleGrant) => {
    if (!(DSF_ROLES as readonly string[]).includes(name)) {
      report(`dsf-role: unknown role '${name}', expected one of ${DSF_ROLES.join(', ')}`);
      return;
    }
    roles.set(name as DsfRole, mergeGrants(roles.get(name as DsfRole), grant));
  };
  for (const entry of Array.isArray(raw) ? raw : [raw]) {
    if (typeof entry === 'string') {
      add(entry.trim(), 'all');
    } else if (isPlainObject(entry) && Object.keys(entry).length === 1) {
      const [name, types] = Object.entries(entry)[0]!;
      const list = Array.isArray(types) ? types : [types];
      const bad = list.filter((t) => typeof t !== 'string' || !isDsfResourceType(t));
      if (list.length === 0 || bad.length > 0) {
        report(`dsf-role: ${name} must list resource types the server supports, got ${JSON.stringify(types)}`);
        continue;
      }
      add(name, new Set(list as string[]));
    } else {
      report(`dsf-role: expected a role name or {ROLE: [ResourceType, ...]}, got ${JSON.stringify(entry)}`);
    }
  }
  return roles;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
