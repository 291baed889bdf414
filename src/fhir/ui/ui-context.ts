// What a page needs to know besides the resource: the site, who is looking, and how the page was asked
// for (so links keep asking for HTML).
import type { Identity } from '../types/identity.ts';
import { isDsfAdmin } from '../types/identity.ts';

export interface UiSite {
  /** The FHIR base URL, e.g. https://dic1.test/fhir */
  baseUrl: string;
  /** The local organisation's identifier, shown in the header. */
  organization: string;
  /** The BPE view's URL, when the operator gives one (a link in the header for admins). */
  bpeUiUrl?: string;
  /** True when users can sign in with OpenID Connect (the header offers sign-in and sign-out). */
  oidcLogin?: boolean;
}

/** The caller as the page shows it and the page's script uses it (requester of new Tasks, author of answers). */
export interface PageUser {
  name: string;
  kind: 'organization' | 'practitioner';
  organizationIdentifier: string;
  email?: string;
  admin: boolean;
  /** Signed in by an OIDC session (so sign-out is offered). */
  session: boolean;
}

export interface PageContext {
  site: UiSite;
  user?: PageUser;
  /** The request asked for HTML by _format=html (links then carry it too). */
  formatParam: boolean;
  /** The request's path and query below the base URL, e.g. Task?status=draft */
  path: string;
  /** The sign-in session's CSRF token: in every form and sent by the page's script with every change. */
  csrfToken?: string;
}

export function pageUser(identity: Identity, session = false): PageUser {
  return {
    name: identity.displayName,
    kind: identity.kind,
    organizationIdentifier: identity.organizationIdentifier,
    email: identity.kind === 'practitioner' ? identity.email : undefined,
    admin: identity.kind === 'organization' ? identity.local : isDsfAdmin(identity),
    session,
  };
}
