// Keeps the BPE in step with one Subscription of its FHIR server, over the wire only (so it works
// against the reference's server too): find the Subscription by search, bind the websocket, catch up
// on everything since the last handled change by a paged _lastUpdated search, then handle live
// events; on any disconnect reconnect and catch up again. Resources are handled one after the other;
// live events that arrive during a catch-up wait until it is done, so older changes go first.
// Handlers are idempotent (see HandledResources): overlaps cost nothing.
// Reconnects are tried at most a second apart, whatever the start-up retry sleep: a Task created
// while the websocket is down (FHIR server restarted, network gone) waits for the next attempt only.
import type { Bundle, Resource, Subscription } from '@medplum/fhirtypes';
import { parseFhirXml } from '../../fhir/model/xml-parse.ts';
import type { FhirClient } from '../../plugin-api/index.ts';
import type { ClientSettings } from '../client/dsf-client-provider.ts';
import type { BpeLogger } from '../services/logging.ts';
import type { HandledType } from './handled-resources.ts';
import type { LastEventStore } from './last-event-store.ts';
import { SerialQueue } from './serial-queue.ts';
import { SubscriptionSocket } from './subscription-socket.ts';

export interface ResourceHandler {
  readonly type: HandledType;
  handle(resource: Resource): Promise<void>;
  /** Finishes what a previous run claimed but did not finish (called before every catch-up). */
  resumeUnfinished(): Promise<void>;
}

export interface ConnectorOptions {
  client: FhirClient;
  tls: ClientSettings;
  /** Search for the Subscription, e.g. ?criteria:exact=Task%3Fstatus%3Drequested&status=active&... */
  subscriptionSearch: string;
  /** Attempts to find the Subscription at start before giving up: -1 forever. */
  retryMax: number;
  /** Pause between those attempts at start (reconnects follow RECONNECT_DELAYS_MS). */
  retrySleepMs: number;
  /** A catch-up starts this long before the last handled change. */
  overlapMs: number;
  lastEvents: LastEventStore;
  handler: ResourceHandler;
  logger: BpeLogger;
  pageSize?: number;
  /** Between websocket pings (default DEFAULT_KEEP_ALIVE_MS): a silently dead connection is dropped after two. */
  keepAliveMs?: number;
}

/** Pauses before the reconnect attempts of one outage: quick at first, then once a second. */
export const RECONNECT_DELAYS_MS: readonly number[] = [100, 200, 400, 800, 1_000];
/** During a long outage one warning per this many failed reconnects (about one a minute), not one a second. */
const WARN_EVERY_FAILED_RECONNECTS = 60;
const MAX_CATCH_UP_PAGES = 100_000;

export function reconnectDelayMs(attempt: number): number {
  return RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)]!;
}

export class ResourceConnector {
  private readonly queue = new SerialQueue();
  private socket: SubscriptionSocket | undefined;
  private stopped = false;
  private catchingUp = false;
  private held: Resource[] = [];
  private pingCatchUp: Promise<void> = Promise.resolve();
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private cycle: Promise<void> | undefined;
  private connectedWaiters: Array<() => void> = [];
  /** Completed connections (a reconnect counts again). */
  connections = 0;
  /** Resources received over the websocket. */
  eventsReceived = 0;

  constructor(private readonly options: ConnectorOptions) {}

  get type(): HandledType {
    return this.options.handler.type;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.catchingUp;
  }

  start(): void {
    this.stopped = false;
    this.cycle = this.connect(false);
  }

  /** Resolves once bound and caught up (after the current or next connection). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  /** Whether stop() was called: the handler's errors from then on may come from the shutdown itself. */
  get stopping(): boolean {
    return this.stopped;
  }

  /**
   * Takes no further resource: events still arriving and those queued are left for the catch-up
   * after the restart (the last handled change is not advanced past them); resolves when the one
   * being handled is done.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.wakeUp?.();
    this.socket?.close();
    this.socket = undefined;
    await this.cycle?.catch(() => {});
    await this.pingCatchUp;
    await this.queue.idle();
  }

  /** Drops the websocket as a network failure would (for tests). */
  dropConnection(): void {
    this.socket?.terminate();
  }

  /** Resolves when every resource received so far has been handled. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private log(): BpeLogger {
    return this.options.logger;
  }

  /** reconnecting: after a lost connection, where a failure only schedules the next attempt. */
  private async connect(reconnecting: boolean): Promise<void> {
    if (this.stopped) return;
    const type = this.type;
    let subscription: Subscription;
    try {
      subscription = reconnecting ? await this.searchSubscription() : await this.findSubscription();
    } catch (e) {
      if (reconnecting) {
        this.reconnectFailed((e as Error).message);
        this.scheduleReconnect();
      } else this.log().error(`${type} subscription not found, giving up: ${(e as Error).message}`);
      return;
    }
    if (this.stopped) return;
    try {
      const criteria = parseCriteria(subscription.criteria ?? '', type);
      this.catchingUp = true;
      this.held = [];
      const ping = subscription.channel?.payload === undefined;
      this.socket = await SubscriptionSocket.bind(wsUrl(this.options.client.baseUrl), subscription.id!, this.options.tls, {
        onMessage: (text) => this.onMessage(text, ping, criteria),
        onClose: (code, reason) => this.onClose(code, reason),
      }, this.options.tls.localConnectTimeoutMs + this.options.tls.localReadTimeoutMs, this.options.keepAliveMs);
      this.log().info(`${type} websocket bound to subscription ${subscription.id}; catching up`);
      await this.queue.run(async () => (this.stopped ? undefined : this.options.handler.resumeUnfinished()), (e) => this.log().error(`resuming unfinished ${type}s failed: ${(e as Error).message}`));
      await this.catchUp(criteria);
      this.catchingUp = false;
      for (const r of this.held.splice(0)) void this.enqueue(r);
      if (this.attempt > 0) this.log().info(`${type} connector reconnected after ${this.attempt} attempt(s)`);
      this.attempt = 0;
      this.connections++;
      this.log().info(`${type} connector caught up and listening`);
      for (const w of this.connectedWaiters.splice(0)) w();
    } catch (e) {
      this.catchingUp = false;
      this.reconnectFailed((e as Error).message);
      const s = this.socket;
      this.socket = undefined;
      s?.terminate();
      this.scheduleReconnect();
    }
  }

  /** Warns on the first failure of an outage and then now and again, not on every attempt. */
  private reconnectFailed(message: string): void {
    if (this.attempt % WARN_EVERY_FAILED_RECONNECTS === 0) this.log().warn(`${this.type} connector: ${message}${this.attempt ? ` (${this.attempt} failed reconnects so far)` : ''}; trying again`);
    else this.log().debug(`${this.type} connector: ${message}`);
  }

  private onClose(code: number, reason: string): void {
    if (this.stopped) return;
    this.log().warn(`${this.type} websocket closed (${code}${reason ? ` ${reason}` : ''}); reconnecting`);
    this.socket = undefined;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = reconnectDelayMs(this.attempt);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.cycle = this.cycle ? this.cycle.then(() => this.connect(true)) : this.connect(true);
    }, delay);
  }

  private onMessage(text: string, ping: boolean, criteria: URLSearchParams): void {
    // A closing websocket still delivers what the server sent before it saw the close.
    if (this.stopped) return;
    if (text.startsWith('ping ')) {
      // A Subscription without payload announces changes only: fetch them by search.
      if (ping) this.pingCatchUp = this.pingCatchUp.then(() => this.catchUp(criteria)).catch((e) => this.log().warn(`catch-up after ping failed: ${(e as Error).message}`));
      return;
    }
    let resource: Resource;
    try {
      resource = text.trimStart().startsWith('<') ? parseFhirXml(text) : (JSON.parse(text) as Resource);
    } catch (e) {
      this.log().warn(`${this.type} websocket: unreadable event ignored: ${(e as Error).message}`);
      return;
    }
    if (resource.resourceType !== this.type) {
      this.log().warn(`${this.type} websocket: ignoring a ${resource.resourceType}`);
      return;
    }
    this.eventsReceived++;
    if (this.catchingUp) this.held.push(resource);
    else void this.enqueue(resource);
  }

  private enqueue(resource: Resource): Promise<void> {
    return this.queue.run(
      async () => {
        if (this.stopped) return;
        await this.options.handler.handle(resource);
        if (resource.meta?.lastUpdated) await this.options.lastEvents.advance(this.type, resource.meta.lastUpdated);
      },
      (e) =>
        this.stopped
          ? this.log().warn(`${this.type}/${resource.id} left unfinished at shutdown, resumed after the restart: ${(e as Error).message}`)
          : this.log().error(`handling ${this.type}/${resource.id} failed: ${(e as Error).message}`),
    );
  }

  /** At start: searches until found, retryMax times at most, retrySleepMs apart. */
  private async findSubscription(): Promise<Subscription> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.searchSubscription();
      } catch (e) {
        if (this.stopped || (this.options.retryMax >= 0 && attempt >= this.options.retryMax)) throw e;
        this.log().warn(`${this.type} subscription: ${(e as Error).message}; trying again in ${this.options.retrySleepMs} ms`);
        await this.sleep(this.options.retrySleepMs);
      }
    }
  }

  private async searchSubscription(): Promise<Subscription> {
    const query = new URLSearchParams(this.options.subscriptionSearch.replace(/^\?/, ''));
    const bundle = await this.options.client.search('Subscription', query);
    const subs = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Subscription => r?.resourceType === 'Subscription');
    if (subs.length !== 1) throw new Error(`expected exactly one Subscription for ${this.options.subscriptionSearch}, found ${subs.length}`);
    return subs[0]!;
  }

  /** A pause that stop() ends at once. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    }).finally(() => (this.wakeUp = undefined));
  }

  /**
   * Every matching resource changed since a little before the last handled one, oldest first. Pages
   * are asked again from the newest lastUpdated seen (`ge`), because handled resources leave the
   * result (their status changes) and page numbers would skip some; versions seen are dropped.
   */
  private async catchUp(criteria: URLSearchParams): Promise<void> {
    const last = await this.options.lastEvents.read(this.type);
    let cursor = last ? new Date(last.getTime() - this.options.overlapMs).toISOString() : undefined;
    const pageSize = this.options.pageSize ?? 20;
    const seen = new Set<string>();
    let handled = 0;
    let bundle: Bundle | undefined;
    let nextUrl: string | undefined;
    for (let page = 0; page < MAX_CATCH_UP_PAGES && !this.stopped; page++) {
      if (nextUrl) bundle = await this.followNext(nextUrl);
      else {
        const q = new URLSearchParams(criteria);
        q.set('_sort', '_lastUpdated');
        q.set('_count', String(pageSize));
        if (cursor) q.set('_lastUpdated', `ge${cursor}`);
        bundle = await this.options.client.search(this.type, q);
      }
      const entries = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r?.resourceType === this.type);
      let fresh = 0;
      for (const r of entries) {
        const key = `${r.id}/${r.meta?.versionId ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        fresh++;
        handled++;
        await this.enqueue(r);
      }
      const newest = entries[entries.length - 1]?.meta?.lastUpdated;
      if (entries.length < pageSize) break;
      if (fresh === 0 && newest === cursor) {
        // A full page of already seen resources with one timestamp: walk on by page links.
        nextUrl = bundle.link?.find((l) => l.relation === 'next')?.url;
        if (!nextUrl) break;
        continue;
      }
      nextUrl = undefined;
      cursor = newest;
    }
    if (handled) this.log().info(`${this.type} catch-up: ${handled} resource(s)`);
  }

  private async followNext(url: string): Promise<Bundle> {
    const u = new URL(url);
    return this.options.client.search(this.type, u.searchParams);
  }
}

/** Task?status=requested -> status=requested (the type must be the connector's). */
export function parseCriteria(criteria: string, type: string): URLSearchParams {
  const [path, query = ''] = criteria.split('?', 2) as [string, string?];
  if (path !== type) throw new Error(`Subscription criteria '${criteria}' is not a ${type} search`);
  return new URLSearchParams(query);
}

export function wsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^https:/, 'wss:').replace(/\/$/, '')}/ws`;
}
