// A FHIR operation as data: what it is (the essentials of its OperationDefinition: name, canonical,
// the types and levels it applies to, whether it changes state) and the handler that runs it. The HTTP
// routes (rest/operation-routes.ts) and the CapabilityStatement (capability.ts) are derived from the list.
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../../../db/pool.ts';
import type { InteractionResult, RequestContext } from '../request-context.ts';
import type { TransactionClient } from '../../../db/pool.ts';

export interface OperationDefinitionEssentials {
  /** The code, without '$' ('snapshot'). */
  name: string;
  /** Canonical URL of its published OperationDefinition; without one it is not listed in the CapabilityStatement (which requires it). */
  definition?: string;
  /** The resource types it applies to. */
  resourceTypes: readonly string[];
  /** Invoked on the type (/Type/$name). */
  typeLevel: boolean;
  /** Invoked on an instance (/Type/id/$name). */
  instanceLevel: boolean;
  /** Changes state: POST only, run in a transaction. */
  affectsState: boolean;
}

/** What an invocation carries, whatever transport brought it. */
export interface OperationInput {
  type: string;
  /** Set for instance-level invocations. */
  id?: string;
  /** The query's parameters, in order. */
  query: [string, string][];
  /** The posted resource (Parameters, or a resource the operation takes as its single input). */
  body?: Resource;
}

/** The database an invocation runs on: the pool, and a transaction for operations that change state. */
export interface OperationDb {
  db: Db;
  transaction<T>(fn: (client: TransactionClient) => Promise<T>): Promise<T>;
}

export interface Operation {
  readonly definition: OperationDefinitionEssentials;
  invoke(ctx: RequestContext, on: OperationDb, input: OperationInput): Promise<InteractionResult>;
}
