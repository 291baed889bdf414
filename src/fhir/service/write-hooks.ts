// The points where authorization, validation, reference checks and caches take part in an interaction.
// Hook providers (auth, references, events, conformance) implement this contract; the server composes them.
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { InteractionAction, RequestContext } from './request-context.ts';
import type { TransactionClient } from '../../db/pool.ts';

export interface WriteHooks {
  /** Called at the start of every interaction (type undefined: system-level history); throws 403 when not allowed. */
  authorize?(ctx: RequestContext, action: InteractionAction, type?: string): void | Promise<void>;
  /**
   * Called before a resource is stored: validation, default profiles, authorization. May modify it.
   * `notes` collects issues for the client that do not stop the write (validation warnings).
   */
  beforeWrite?(ctx: RequestContext, client: TransactionClient, resource: Resource, existing?: Resource, notes?: OperationOutcomeIssue[]): Promise<Resource>;
  beforeDelete?(ctx: RequestContext, client: TransactionClient, existing: Resource): Promise<void>;
  /** Called in the same transaction after a new version was stored (not when an update changed nothing). */
  afterWrite?(ctx: RequestContext, client: TransactionClient, stored: Resource, previous?: Resource): Promise<void>;
  /** Called in the same transaction after a logical delete wrote its marker. */
  afterDelete?(ctx: RequestContext, client: TransactionClient, deleted: Resource): Promise<void>;
}

/** Runs several hook sets in order (validation first, then authorization, read access, events, ...). */
export function composeWriteHooks(...sets: WriteHooks[]): WriteHooks {
  const authorizers = sets.filter((s) => s.authorize);
  /** The authorizers from the i-th on; synchronous while they are (no promise, no microtask per set on every read). */
  const authorizeFrom = (i: number, ctx: RequestContext, action: InteractionAction, type?: string): void | Promise<void> => {
    for (; i < authorizers.length; i++) {
      const pending = authorizers[i]!.authorize!(ctx, action, type);
      if (pending) return pending.then(() => authorizeFrom(i + 1, ctx, action, type));
    }
  };
  // Each hook runs through the sets that have it only: a set without it would cost an `await undefined`
  // (a microtask turn) on every write, and most sets have one or two of the four.
  const befores = sets.filter((s) => s.beforeWrite);
  const afters = sets.filter((s) => s.afterWrite);
  const beforeDeletes = sets.filter((s) => s.beforeDelete);
  const afterDeletes = sets.filter((s) => s.afterDelete);
  return {
    authorize: (ctx, action, type) => authorizeFrom(0, ctx, action, type),
    async beforeWrite(ctx, client, resource, existing, notes) {
      let r = resource;
      for (const s of befores) r = await s.beforeWrite!(ctx, client, r, existing, notes);
      return r;
    },
    async beforeDelete(ctx, client, existing) {
      for (const s of beforeDeletes) await s.beforeDelete!(ctx, client, existing);
    },
    async afterWrite(ctx, client, stored, previous) {
      for (const s of afters) await s.afterWrite!(ctx, client, stored, previous);
    },
    async afterDelete(ctx, client, deleted) {
      for (const s of afterDeletes) await s.afterDelete!(ctx, client, deleted);
    },
  };
}
