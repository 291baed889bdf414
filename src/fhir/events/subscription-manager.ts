// Ties the event stream to websocket sessions: which sessions are bound to which Subscription, and for
// each committed change, which of them receive it. Changes are handled one at a time in the order they
// became visible (see event-listener.ts); for each, the version is loaded once, matched in memory against
// the active Subscriptions of its type that have bound sessions, and sent to every session whose identity
// may read that version (one SQL check per identity and change, shared by all its sessions).
//
// A binding receives exactly the changes that became visible after it was bound. The stream runs a
// little behind the commits, so "after" is decided by the stream position (snapshot) taken at bind, not
// by when a change is handled: a client that binds and then searches (the BPE's catch-up) gets every
// change its search could not see as an event, and none that its search already returned.
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { toFhirXml } from '../model/xml-write.ts';
import { cleanLiteralReferences } from '../references/reference-cleaner.ts';
import { canRead, versionContent } from '../store/resource-lookups.ts';
import { currentStreamPosition, type CommittedChange, type StreamPosition } from '../store/change-stream.ts';
import { matchesCriteria } from '../search/criteria-match.ts';
import { matchableResource } from './matchable-resource.ts';
import { SubscriptionRegistry, type ActiveSubscription } from './subscription-registry.ts';
import {
  CLOSE_CREDENTIALS_EXPIRED,
  CLOSE_EVENTS_INTERRUPTED,
  CLOSE_UNKNOWN_SUBSCRIPTION_CODE,
  credentialsExpired,
  mayReceive,
  type EventSession,
} from './websocket-session.ts';

/** One session bound to one Subscription. */
interface Binding {
  /** The stream position at bind: changes visible in it are not sent. Unknown for the moment the position is being taken. */
  since?: StreamPosition;
  /** Messages for changes handled while `since` was being taken, sent (or dropped) once it is known. */
  held: { xact: bigint; message: Buffer }[];
}

export class SubscriptionManager {
  readonly registry: SubscriptionRegistry;
  private readonly bindings = new Map<string, Map<EventSession, Binding>>();
  private readonly sessions = new Set<EventSession>();
  /** Reloads may overlap (bind and event handling); only a newer start may replace the registry. */
  private reloadSeq = 0;
  private appliedSeq = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly baseUrl: string,
    private readonly log: (msg: string) => void = () => {},
  ) {
    this.registry = new SubscriptionRegistry(pool, log);
  }

  async start(): Promise<void> {
    await this.reload();
  }

  private async reload(): Promise<void> {
    const seq = ++this.reloadSeq;
    const next = new SubscriptionRegistry(this.pool, this.log);
    await next.reload();
    if (seq > this.appliedSeq) {
      this.appliedSeq = seq;
      this.registry.replaceWith(next);
    }
  }

  open(session: EventSession): void {
    this.sessions.add(session);
  }

  /** `bind <id>`: answers `bound <id>`, or closes with 1003 when no active Subscription has that id. */
  async bind(session: EventSession, id: string): Promise<void> {
    // A Subscription created a moment ago may not have reached the event stream yet.
    if (!this.registry.get(id)) await this.reload();
    if (!this.sessions.has(session)) return; // closed meanwhile
    if (!this.registry.get(id)) {
      session.close(CLOSE_UNKNOWN_SUBSCRIPTION_CODE, `Subscription with ${id} not found`);
      return;
    }
    let bound = this.bindings.get(id);
    if (!bound) this.bindings.set(id, (bound = new Map()));
    if (bound.has(session)) return session.send(`bound ${id}`);
    // Registered before the position is taken: a change handled from now on is held, and one handled
    // before was read at an earlier position, so it is visible in this one and would be dropped anyway.
    const binding: Binding = { held: [] };
    bound.set(session, binding);
    let since: StreamPosition;
    try {
      since = await currentStreamPosition(this.pool);
    } catch (e) {
      this.unbind(id, session);
      throw e;
    }
    if (!this.sessions.has(session)) return;
    session.send(`bound ${id}`);
    for (const h of binding.held) if (!since.sees(h.xact)) session.send(h.message);
    binding.held = [];
    binding.since = since;
  }

  private unbind(id: string, session: EventSession): void {
    const bound = this.bindings.get(id);
    bound?.delete(session);
    if (bound && !bound.size) this.bindings.delete(id);
  }

  closed(session: EventSession): void {
    this.sessions.delete(session);
    for (const id of [...this.bindings.keys()]) this.unbind(id, session);
  }

  /** The resource types some bound session may receive (their changes are worth reading with content). */
  boundTypes(): string[] {
    const types = new Set<string>();
    for (const id of this.bindings.keys()) {
      const sub = this.registry.get(id);
      if (sub) types.add(sub.criteria.resourceType);
    }
    return [...types];
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A change could not be delivered: every client must reconnect and catch up. */
  async interrupted(): Promise<void> {
    await this.reload();
    for (const s of [...this.sessions]) s.close(CLOSE_EVENTS_INTERRUPTED.code, CLOSE_EVENTS_INTERRUPTED.reason);
  }

  closeAll(code: number, reason: string): void {
    for (const s of [...this.sessions]) s.close(code, reason);
  }

  async handleChange(change: CommittedChange): Promise<void> {
    if (change.type === 'Subscription') await this.reload();
    if (change.deleted) return; // the reference announces created and updated resources
    const candidates = this.registry.forType(change.type).filter((s) => this.bindings.get(s.id)?.size);
    if (!candidates.length) return;
    const resource = change.resource ?? (await versionContent(this.pool, change.id, change.version));
    if (!resource) return; // permanently deleted meanwhile
    const indexed = await matchableResource(this.pool, resource, this.baseUrl, candidates.map((c) => c.criteria));
    const allowedByIdentity = new Map<string, Promise<boolean>>();
    for (const sub of candidates) {
      if (!matchesCriteria(sub.criteria, indexed, this.baseUrl)) continue;
      const sessions = [...(this.bindings.get(sub.id) ?? [])];
      let message: Buffer | undefined;
      for (const [session, binding] of sessions) {
        if (binding.since?.sees(change.xact)) continue; // visible when it was bound
        if (credentialsExpired(session.ctx.identity)) {
          session.close(CLOSE_CREDENTIALS_EXPIRED.code, CLOSE_CREDENTIALS_EXPIRED.reason);
          continue;
        }
        let allowed = allowedByIdentity.get(session.identityKey);
        if (!allowed) allowedByIdentity.set(session.identityKey, (allowed = this.mayRead(session, change)));
        if (!(await allowed)) continue;
        message ??= Buffer.from(eventText(sub, resource));
        if (binding.since) session.send(message);
        else binding.held.push({ xact: change.xact, message });
      }
    }
  }

  /** Read access to this version with the same SQL conditions search applies for the session's caller. */
  private async mayRead(session: EventSession, change: CommittedChange): Promise<boolean> {
    if (!mayReceive(session.ctx.identity, change.type)) return false;
    const access = session.ctx.access;
    return access ? canRead(this.pool, access, change.id, change.version, change.type) : true;
  }
}

/** The message for one event: the resource as JSON or XML, or `ping <id>` without payload. */
export function eventText(sub: ActiveSubscription, stored: Resource): string {
  if (sub.payload !== 'application/fhir+json' && sub.payload !== 'application/fhir+xml') return `ping ${sub.id}`;
  // Subscribers see what readers see: no literal part beside an identifier.
  const resource = cleanLiteralReferences(stored);
  if (sub.payload === 'application/fhir+json') return JSON.stringify(resource);
  if (sub.payload === 'application/fhir+xml') return toFhirXml(resource);
  return `ping ${sub.id}`;
}
