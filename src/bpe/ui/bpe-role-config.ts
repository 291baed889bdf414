// Who may use the BPE's web view: DEV_DSF_BPE_SERVER_ROLECONFIG, the reference's BPE role configuration
// (the FHIR server's YAML format: named rules matching by thumbprint, email, token-role or token-group),
// whose only dsf-role is ADMIN. Every problem is reported, so a bad configuration stops the start.
import { parse } from 'yaml';

export interface BpeRoleRule {
  name: string;
  thumbprints: string[];
  emails: string[];
  tokenRoles: string[];
  tokenGroups: string[];
  admin: boolean;
}

export interface BpeCaller {
  thumbprint?: string;
  emails?: readonly string[];
  tokenRoles?: readonly string[];
  tokenGroups?: readonly string[];
}

const PROPERTIES = ['thumbprint', 'email', 'token-role', 'token-group', 'dsf-role', 'practitioner-role'];
const SOURCE = 'DEV_DSF_BPE_SERVER_ROLECONFIG';

export class BpeRoleConfig {
  constructor(readonly rules: readonly BpeRoleRule[] = []) {}

  /** True when a rule with the ADMIN role matches the caller. */
  isAdmin(caller: BpeCaller): boolean {
    const emails = new Set((caller.emails ?? []).map((e) => e.toLowerCase()));
    return this.rules.some(
      (r) =>
        r.admin &&
        ((caller.thumbprint !== undefined && r.thumbprints.includes(caller.thumbprint)) ||
          r.emails.some((e) => emails.has(e.toLowerCase())) ||
          r.tokenRoles.some((t) => caller.tokenRoles?.includes(t)) ||
          r.tokenGroups.some((g) => caller.tokenGroups?.includes(g))),
    );
  }

  static parse(text: string | undefined, problems: string[]): BpeRoleConfig {
    if (text === undefined || text.trim() === '') return new BpeRoleConfig();
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (e) {
      problems.push(`${SOURCE}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
      return new BpeRoleConfig();
    }
    if (doc === null || doc === undefined) return new BpeRoleConfig();
    if (!Array.isArray(doc)) {
      problems.push(`${SOURCE}: expected a YAML list of rules ("- rule-name:" entries)`);
      return new BpeRoleConfig();
    }
    const rules: BpeRoleRule[] = [];
    for (const entry of doc) {
      if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
        problems.push(`${SOURCE}: every entry must be a map "rule-name: {properties}"`);
        continue;
      }
      for (const [name, body] of Object.entries(entry as Record<string, unknown>)) {
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          problems.push(`${SOURCE}: rule '${name}': expected a map of properties`);
          continue;
        }
        const props = body as Record<string, unknown>;
        for (const key of Object.keys(props)) if (!PROPERTIES.includes(key)) problems.push(`${SOURCE}: rule '${name}': unknown property '${key}'`);
        const list = (key: string): string[] => {
          const raw = props[key];
          if (raw === undefined || raw === null) return [];
          const values = Array.isArray(raw) ? raw : [raw];
          const bad = values.filter((v) => typeof v !== 'string' || !v.trim());
          if (bad.length) problems.push(`${SOURCE}: rule '${name}': ${key}: expected non-empty strings`);
          return values.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
        };
        const roles = list('dsf-role');
        for (const r of roles) if (r !== 'ADMIN') problems.push(`${SOURCE}: rule '${name}': dsf-role: unknown role '${r}', the BPE knows only ADMIN`);
        rules.push({ name, thumbprints: list('thumbprint').map((t) => t.toLowerCase()), emails: list('email'), tokenRoles: list('token-role'), tokenGroups: list('token-group'), admin: roles.includes('ADMIN') });
      }
    }
    return new BpeRoleConfig(rules);
  }
}
