// One websocket connection of the /ws endpoint as the event dispatcher sees it: the caller's request
// context (identity, access filter) and a way to send text or close.
import type { RequestContext } from '../service/request-context.ts';
import { hasRole, type Identity } from '../types/identity.ts';

/** Close codes and reasons of the reference's websocket endpoint. */
export const CLOSE_FORBIDDEN = { code: 1008, reason: 'Forbidden' } as const;
export const CLOSE_CREDENTIALS_EXPIRED = { code: 1008, reason: 'Credentials expired' } as const;
/** 1003 CANNOT_ACCEPT; the reason names the subscription. */
export const CLOSE_UNKNOWN_SUBSCRIPTION_CODE = 1003;
/** The server lost events (database connection interrupted): reconnect and catch up. */
export const CLOSE_EVENTS_INTERRUPTED = { code: 1012, reason: 'Event stream interrupted, reconnect and catch up' } as const;

export interface EventSession {
  readonly id: number;
  readonly ctx: RequestContext;
  /** Sessions with the same key share identity and read rights, so one access check serves them all. */
  readonly identityKey: string;
  /** A text message; a Buffer (UTF-8) lets one encoding serve every session of an event. */
  send(text: string | Buffer): void;
  close(code: number, reason: string): void;
}

export function identityKey(identity: Identity | undefined): string {
  if (!identity) return 'server';
  return [identity.kind, identity.organizationIdentifier, identity.thumbprint ?? '', identity.kind === 'practitioner' ? (identity.email ?? '') : '', identity.displayName].join('|');
}

/** The WEBSOCKET role on at least one type. Without an identity the caller is the local organisation. */
export function mayOpenWebsocket(identity: Identity | undefined): boolean {
  if (!identity) return true;
  const grant = identity.roles.get('WEBSOCKET');
  return grant === 'all' || (grant !== undefined && grant.size > 0);
}

/** Read and websocket rights on a type, and credentials not expired (checked per event). */
export function mayReceive(identity: Identity | undefined, resourceType: string): boolean {
  if (!identity) return true;
  return hasRole(identity, 'WEBSOCKET', resourceType) && hasRole(identity, 'READ', resourceType);
}

export function credentialsExpired(identity: Identity | undefined, now = Date.now()): boolean {
  return identity?.expiresAt !== undefined && identity.expiresAt.getTime() <= now;
}
