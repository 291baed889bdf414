// Subscriptions and websocket event delivery of one FHIR server process: the change-stream listener, the
// subscription manager it feeds, and the /ws endpoint. Wired into the server by fhir-server.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { RequestContext } from '../service/request-context.ts';
import { EventListener } from './event-listener.ts';
import type { CommittedChange } from '../store/change-stream.ts';
import { SubscriptionManager } from './subscription-manager.ts';
import { registerWebsocketEndpoint } from './websocket-endpoint.ts';

export interface EventDelivery {
  manager: SubscriptionManager;
  listener: EventListener;
  /**
   * This process committed writes of these types: the other processes are told, and the stream is read
   * at once when a bound session may receive one of them or a Subscription changed (the registry must
   * know it before a client binds to it). Other changes wait for the next read or the poll (at most
   * pollIntervalMs): nobody here waits for them, and a binding's start is decided by its stream position,
   * not by when a change is read. At one client that saved a stream read per create of such types.
   */
  committed(types: ReadonlySet<string>): void;
  /** Registers GET /ws on the (prefixed) FHIR routes scope. */
  routes(app: FastifyInstance, context: (req: FastifyRequest) => Promise<RequestContext>): void;
  stop(): Promise<void>;
}

export interface EventDeliveryOptions {
  pingIntervalMs?: number;
  log?: (msg: string) => void;
  /** Other consumers of the committed-change stream (the identity cache), told first. */
  observers?: { observe(change: CommittedChange): void; observeGap(): void }[];
  /** The change stream's safety-net poll (ms). */
  pollIntervalMs?: number;
}

export async function startEventDelivery(pool: pg.Pool, baseUrl: string, opts: EventDeliveryOptions = {}): Promise<EventDelivery> {
  const log = opts.log ?? (() => {});
  const observers = opts.observers ?? [];
  const manager = new SubscriptionManager(pool, baseUrl, log);
  // A connection of its own with the pool's settings: LISTEN must outlive every pooled checkout.
  const listener = new EventListener(
    pool.options,
    {
      onChange: (change) => {
        for (const o of observers) o.observe(change);
        return manager.handleChange(change);
      },
      onGap: () => {
        for (const o of observers) o.observeGap();
        return manager.interrupted();
      },
      contentTypes: () => manager.boundTypes(),
      log,
    },
    { pollIntervalMs: opts.pollIntervalMs },
  );
  // Take the stream position first, then load the Subscriptions: one committed in between is then seen by both, never by neither.
  await listener.start();
  await manager.start();
  return {
    manager,
    listener,
    committed(types) {
      listener.committed(types.has('Subscription') || manager.boundTypes().some((t) => types.has(t)));
    },
    routes(app, context) {
      registerWebsocketEndpoint(app, { manager, context, pingIntervalMs: opts.pingIntervalMs, log });
    },
    async stop() {
      await listener.stop();
    },
  };
}
