// The active Subscriptions of this server, in memory with their parsed criteria. Reloaded whenever a
// Subscription changes (those changes arrive through the same event stream, in commit order, so a
// Subscription is in effect for every change committed after it).
import type { Subscription } from '@medplum/fhirtypes';
import type { Db } from '../../db/pool.ts';
import { currentContaining } from '../store/resource-lookups.ts';
import type { SearchRequest } from '../search/search-request.ts';
import { parseCriteria } from '../types/subscription.ts';

export interface ActiveSubscription {
  id: string;
  resource: Subscription;
  criteria: SearchRequest;
  /** 'application/fhir+json', 'application/fhir+xml', or undefined for `ping <id>` notifications. */
  payload?: string;
}

/** What makes a Subscription one this server delivers events for. */
const ACTIVE_WEBSOCKET = { status: 'active', channel: { type: 'websocket' } };

export class SubscriptionRegistry {
  private byId = new Map<string, ActiveSubscription>();
  private byType = new Map<string, ActiveSubscription[]>();

  constructor(
    private readonly db: Db,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  async reload(): Promise<void> {
    const subscriptions = await currentContaining<Subscription>(this.db, 'Subscription', ACTIVE_WEBSOCKET);
    const byId = new Map<string, ActiveSubscription>();
    const byType = new Map<string, ActiveSubscription[]>();
    for (const resource of subscriptions) {
      let criteria: SearchRequest;
      try {
        criteria = parseCriteria(resource.criteria ?? '');
      } catch (e) {
        this.log(`Subscription/${resource.id} ignored: ${(e as Error).message}`);
        continue;
      }
      const s: ActiveSubscription = { id: resource.id!, resource, criteria, payload: resource.channel?.payload };
      byId.set(s.id, s);
      const list = byType.get(criteria.resourceType);
      if (list) list.push(s);
      else byType.set(criteria.resourceType, [s]);
    }
    this.byId = byId;
    this.byType = byType;
  }

  /** Takes over the contents of a registry loaded separately (so a reload never shows a half state). */
  replaceWith(other: SubscriptionRegistry): void {
    this.byId = other.byId;
    this.byType = other.byType;
  }

  get(id: string): ActiveSubscription | undefined {
    return this.byId.get(id);
  }

  forType(type: string): readonly ActiveSubscription[] {
    return this.byType.get(type) ?? [];
  }

  get size(): number {
    return this.byId.size;
  }
}
