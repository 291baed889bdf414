// Named prepared statements for the parameterised statements of a pool's connections. PostgreSQL then
// parses and plans a statement text once per connection instead of on every request (for the FHIR
// server's read-access-aware SQL, planning costs more than running it).
//
// Every statement sent as (text, values) gets the name of its text's hash. Each connection keeps at
// most `maxPerConnection` of them (least recently used dropped with DEALLOCATE), so statements built
// per search shape cannot grow a backend's memory without bound. A statement whose plan went stale
// (a migration changed its result type, SQLSTATE 0A000) or that the server no longer knows (26000) is
// prepared anew and, outside a transaction, run again once; in a transaction the error ends the
// transaction, and `isStalePlanError` lets its owner run it again.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { QueryFn } from './query-when-ready.ts';

export interface PreparedStatementOptions {
  /** Most named statements one connection keeps (default 50). */
  maxPerConnection?: number;
}

const INSTALLED = Symbol('dsf.preparedStatements');


/** The connection's own record of what it prepared (pg keeps it on the connection, by name). */
interface PgConnectionState {
  parsedStatements: Record<string, string>;
}

/** An error telling that a named statement must be prepared again (then it works). */
export function isStalePlanError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  if (err?.code === '26000') return true; // prepared statement does not exist
  return err?.code === '0A000' && typeof err.message === 'string' && err.message.includes('cached plan must not change result type');
}

/** Names of the texts seen lately: hashing the text on every statement cost a share of a FHIR read. */
const names = new Map<string, string>();
const MAX_NAMES = 1000;

/** The statement name of a SQL text: stable across connections and processes. */
export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    if (names.size >= MAX_NAMES) names.clear();
    name = `dsf_${createHash('sha1').update(text).digest('hex').slice(0, 32)}`;
    names.set(text, name);
  }
  return name;
}

/** The names one connection has prepared, least recently used first, and those still to drop. */
class ConnectionStatements {
  /** Hash of the text -> the name it is prepared under on this connection. */
  readonly names = new Map<string, string>();
  /** Prepared names dropped from the cache whose DEALLOCATE is still to be sent. */
  readonly unused: string[] = [];
  private counter = 0;

  constructor(readonly max: number) {}

  /**
   * The name to run `hash` under; a new one (never used on this connection before) when not cached,
   * so that a name whose DEALLOCATE is pending never clashes with a new PREPARE.
   */
  nameFor(hash: string, connection: PgConnectionState): string {
    const known = this.names.get(hash);
    if (known !== undefined) {
      this.names.delete(hash);
      this.names.set(hash, known); // most recently used last
      return known;
    }
    while (this.names.size >= this.max) {
      const [oldestHash, oldestName] = this.names.entries().next().value as [string, string];
      this.forget(oldestHash, oldestName, connection, true);
    }
    const name = `${hash}_${(this.counter++).toString(36)}`;
    this.names.set(hash, name);
    return name;
  }

  forget(hash: string, name: string, connection: PgConnectionState, exists: boolean): void {
    if (this.names.get(hash) === name) this.names.delete(hash);
    delete connection.parsedStatements[name];
    if (exists) this.unused.push(name);
  }
}

/** Sends the pool's parameterised statements as named prepared statements (see the file comment). */
export function usePreparedStatements(pool: pg.Pool, opts: PreparedStatementOptions = {}): void {
  const max = Math.max(1, opts.maxPerConnection ?? 50);
  // Every checkout (pool.query checks out too): the first one of a connection installs the wrapper.
  pool.on('acquire', (client) => install(client, max));
}

/**
 * The same for one client of its own (the change-stream listener's connection): its parameterised
 * statements run as named prepared statements, with the same bound and stale-plan handling.
 */
export function usePreparedStatementsOn(client: pg.ClientBase, opts: PreparedStatementOptions = {}): void {
  install(client, Math.max(1, opts.maxPerConnection ?? 50));
}

/** The statements prepared on a client (for tests and diagnostics); undefined when not installed. */
export function preparedStatementCount(client: pg.ClientBase): number | undefined {
  return (client as unknown as { [INSTALLED]?: ConnectionStatements })[INSTALLED]?.names.size;
}

/** 'I' idle, 'T' in a transaction, 'E' in a failed one: as of the last statement's end. */
function txStatus(client: pg.ClientBase): string | null {
  return (client as unknown as { getTransactionStatus(): string | null }).getTransactionStatus();
}

function install(client: pg.ClientBase, max: number): void {
  const holder = client as unknown as { [INSTALLED]?: ConnectionStatements; connection: PgConnectionState };
  if (holder[INSTALLED]) return;
  const statements = new ConnectionStatements(max);
  holder[INSTALLED] = statements;
  const original = client.query as unknown as QueryFn;
  const send = (config: unknown) => original.call(client, config) as Promise<pg.QueryResult>;

  /** DEALLOCATE what the cache dropped, unless the transaction failed (then on a later statement). */
  const dropUnused = async () => {
    if (!statements.unused.length || txStatus(client) === 'E') return;
    const names = statements.unused.splice(0);
    await send(names.map((n) => `DEALLOCATE "${n}"`).join('; '));
  };

  const runNamed = async (text: string, values: unknown[]): Promise<pg.QueryResult> => {
    const hash = statementName(text);
    for (let attempt = 0; ; attempt++) {
      // Outside a transaction the statement commits or fails on its own: running it again is safe.
      const autocommit = txStatus(client) === 'I';
      const name = statements.nameFor(hash, holder.connection);
      await dropUnused();
      try {
        return await send({ name, text, values });
      } catch (e) {
        if (!isStalePlanError(e)) {
          // Refused when prepared (syntax, types): it does not exist, so it must not be DEALLOCATEd later either.
          if (holder.connection.parsedStatements[name] === undefined) statements.forget(hash, name, holder.connection, false);
          throw e;
        }
        statements.forget(hash, name, holder.connection, (e as { code?: string }).code !== '26000');
        if (!autocommit || attempt > 0) throw e;
      }
    }
  };

  const wrapped = function query(this: unknown, ...args: unknown[]): unknown {
    const [config, values, cb] = args;
    if (typeof config !== 'string' || !Array.isArray(values) || values.length === 0) return original.apply(client, args);
    const result = runNamed(config, values);
    if (typeof cb === 'function') {
      result.then(
        (r) => (cb as (err: Error | null, r?: pg.QueryResult) => void)(null, r),
        (e) => (cb as (err: Error) => void)(e as Error),
      );
      return undefined;
    }
    return result;
  };
  (client as unknown as { query: QueryFn }).query = wrapped;
}
