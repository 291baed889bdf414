// What every interaction works with: who asks (identity), what they may read (access), and what an
// interaction answers. The contracts of the service layer; HTTP, bundles and websockets build them.
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Identity } from '../types/identity.ts';
import type { AccessFilter } from '../store/access-condition.ts';

export interface RequestContext {
  /** Prefer: handling=strict: unknown or malformed search parameters are errors, not warnings. */
  strict: boolean;
  /** The caller; undefined only for the server's own start-up work (core resources, initial bundle). */
  identity?: Identity;
  /** What the caller may read (authorization); every read, search and conditional match applies it. */
  access?: AccessFilter;
  /**
   * Set inside a transaction: checks that must wait until every entry ran (references may point at
   * entries that run later); the transaction runs them before it commits.
   */
  afterEntries?: (() => Promise<void>)[];
}

export interface InteractionResult {
  status: number;
  resource?: Resource;
  outcome?: OperationOutcome;
  location?: string;
  versionId?: string;
  lastModified?: string;
  /** A search's warnings when the answer is its single match (bundle entries, as the reference). */
  searchWarning?: OperationOutcome;
  /** Validation warnings of a write that went through: told with Prefer: return=OperationOutcome (as the reference). */
  warnings?: OperationOutcomeIssue[];
}

/** What a caller asks to do; authorization maps each to a dsf-role (READ, SEARCH, ...). */
export type InteractionAction = 'read' | 'search' | 'history' | 'create' | 'update' | 'delete' | 'permanent-delete';

/** What a write answers with (Prefer: return=...): nothing, the resource, or an OperationOutcome. */
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';
