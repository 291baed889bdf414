// Concurrent creates of different requests written together. A transaction that only writes (a create)
// sends its writes as one statement outside BEGIN/COMMIT (resource-store.ts); those sent in the same
// event-loop turn go as one statement instead (version-writes.ts takes any number of writes): one round
// trip, one commit and one WAL flush for all of them, on the connection of the first. A transaction's
// connection is checked out on its first statement (db/deferred-connection.ts), so only that first
// member's is: the others never take one from the pool. Should that checkout fail (the first request was
// abandoned), the others go on as a group of their own; a pool wait timeout is everyone's answer.
//
// The guarantees of a statement of its own stay:
// - Each request is answered only after the shared statement returned, that is committed (autocommit),
//   so nothing acknowledged is lost when the process dies.
// - If the shared statement fails (a uniqueness key another resource holds, also one another member of
//   the group takes, or any other error) nothing of it was written: every member's writes are then sent
//   again alone, each on its own connection, so only the offending request fails, with its own error.
//   (Should the connection break after the commit, before its answer arrived, the versions sent again
//   clash with themselves on the primary key: those requests fail, nothing is written twice.)
// - Keys are still enforced by the database; the members' versions become visible in one commit, in
//   the order they joined (the change stream delivers them so).
// - A group is bounded in writes and in JSON size, so that it runs about as long as one large write
//   (the statement timeout applies to it as to any statement).
// - At most maxInFlight group statements run at once; one that runs past stallMs (waiting on a lock)
//   stops counting, so no write waits behind another's lock for longer than that. Groups of different
//   statements commit in the order their statements end, as writes of concurrent requests always did
//   (each request is answered only after its own commit; the change stream orders by commit).
import { DeferredConnection } from '../../db/deferred-connection.ts';
import { PoolWaitTimeoutError } from '../../db/pool.ts';
import { writeVersions, type KeyClash, type VersionWrite } from './version-writes.ts';
import type { TransactionClient } from '../../db/pool.ts';

export interface WriteGroupLimits {
  /** Most versions in one shared statement; a single request with as many or more goes alone. */
  maxWrites: number;
  /** Most characters of resource JSON in one shared statement; a larger single request goes alone. */
  maxJsonChars: number;
  /**
   * Most statements of this store's groups running at once (default 1; the server's
   * DSF_FHIR_WRITE_GROUP_STATEMENTS). Writes that arrive while one runs gather into the next group, so
   * groups grow with the load instead of running side by side as a statement per event-loop turn (fewer
   * statements and commits). With more than one, that next group is sent as soon as it is as large as
   * the group sent last (at least 2 writers), on another connection; otherwise when one returns. One at
   * a time leaves PostgreSQL idle while a group's answers and the next requests are processed, and the
   * server while a statement and its commit's WAL flush run; two overlap them, at about a tenth more
   * database CPU per create (smaller groups). On the 2-core bench machine neither was faster.
   */
  maxInFlight?: number;
  /**
   * A statement running longer than this (ms; default 20) no longer counts against maxInFlight, so a
   * write that waits on a lock (a key another transaction holds) holds up the others only this long.
   */
  stallMs?: number;
}

export const DEFAULT_WRITE_GROUP_LIMITS: Required<WriteGroupLimits> = { maxWrites: 256, maxJsonChars: 4 * 1024 * 1024, maxInFlight: 1, stallMs: 20 };

interface Member {
  client: TransactionClient;
  writes: readonly VersionWrite[];
  resolve: (clash: KeyClash | undefined) => void;
  reject: (error: unknown) => void;
}

export class WriteGroups {
  private open: Member[] = [];
  private readonly ready: Member[][] = [];
  private inFlight = 0;
  private openWrites = 0;
  private openChars = 0;
  private scheduled = false;
  /** Members of the group sent last: the size at which the open group goes while another runs. */
  private lastSent = 1;
  /** Counts for tests and measurements: shared statements sent, members they held, shared statements that failed. */
  readonly stats = { groups: 0, members: 0, fallbacks: 0 };

  /** The limits given, the defaults for those left out. */
  private readonly limits: Required<WriteGroupLimits>;

  constructor(limits: WriteGroupLimits = DEFAULT_WRITE_GROUP_LIMITS) {
    const { maxInFlight = DEFAULT_WRITE_GROUP_LIMITS.maxInFlight, stallMs = DEFAULT_WRITE_GROUP_LIMITS.stallMs } = limits;
    this.limits = { ...limits, maxInFlight, stallMs };
  }

  /**
   * Writes the versions, alone or together with those of other requests sent in this event-loop turn
   * (or, while a group statement runs, until it returns or the group is as large as the one sent last).
   * Resolves once they are committed; answers as writeVersions(client, writes) would.
   */
  write(client: TransactionClient, writes: readonly VersionWrite[]): Promise<KeyClash | undefined> {
    const chars = jsonChars(writes);
    if (writes.length >= this.limits.maxWrites || chars >= this.limits.maxJsonChars) return writeVersions(client, writes);
    if (this.openWrites + writes.length > this.limits.maxWrites || this.openChars + chars > this.limits.maxJsonChars) this.close();
    const joined = new Promise<KeyClash | undefined>((resolve, reject) => this.open.push({ client, writes, resolve, reject }));
    this.openWrites += writes.length;
    this.openChars += chars;
    if (!this.scheduled) {
      this.scheduled = true;
      // After this turn's I/O callbacks: every request whose work finished in this turn has joined.
      setImmediate(() => {
        this.scheduled = false;
        // While a statement runs, the open group keeps gathering (sendWhenDue).
        if (this.inFlight === 0) this.close();
      });
    }
    if (this.inFlight > 0) this.sendWhenDue();
    return joined;
  }

  /** Sends the open group if nothing runs, or if it is as large as the group sent last (a connection free). */
  private sendWhenDue(): void {
    if (this.inFlight === 0 || (this.inFlight < this.limits.maxInFlight && this.open.length >= Math.max(2, this.lastSent))) this.close();
    else this.pump();
  }

  /** Seals the open group; later writes start a new one. Sent at once unless a shared statement is in flight. */
  private close(): void {
    const members = this.open;
    if (members.length) {
      this.open = [];
      this.openWrites = 0;
      this.openChars = 0;
      this.ready.push(members);
    }
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.limits.maxInFlight && this.ready.length) {
      const members = this.ready.shift()!;
      this.lastSent = members.length;
      this.inFlight++;
      let counted = true;
      const stall = setTimeout(() => {
        counted = false;
        this.inFlight--;
        this.sendWhenDue();
      }, this.limits.stallMs);
      stall.unref();
      void this.send(members).finally(() => {
        clearTimeout(stall);
        if (counted) this.inFlight--;
        this.sendWhenDue();
      });
    }
  }

  private async send(members: Member[]): Promise<void> {
    if (members.length === 1) return alone(members[0]!);
    // The first member's connection runs the statement; a transaction's is checked out only now
    // (db/deferred-connection.ts), and a failed checkout is that member's, not the statement's.
    const checkout = connectionOf(members[0]!.client);
    if (checkout) {
      try {
        await checkout;
      } catch (e) {
        members[0]!.reject(e);
        // No connection within the pool's wait timeout: the others would each wait as long again.
        if (e instanceof PoolWaitTimeoutError) for (const m of members.slice(1)) m.reject(e);
        else await this.send(members.slice(1));
        return;
      }
    }
    this.stats.groups++;
    this.stats.members += members.length;
    let failed: boolean;
    try {
      failed = (await writeVersions(members[0]!.client, members.flatMap((m) => m.writes))) !== undefined;
    } catch {
      failed = true;
    }
    if (!failed) {
      for (const m of members) m.resolve(undefined);
      return;
    }
    // Nothing of the shared statement was written: each member alone, so each gets its own answer.
    this.stats.fallbacks++;
    await Promise.all(members.map(alone));
  }
}

/** The connection behind a transaction's client: a deferred one (db/deferred-connection.ts) is checked out now. */
function connectionOf(client: TransactionClient): Promise<TransactionClient> | undefined {
  return client instanceof DeferredConnection ? client.connection() : undefined;
}

function alone(m: Member): Promise<void> {
  return writeVersions(m.client, m.writes).then(m.resolve, m.reject);
}

function jsonChars(writes: readonly VersionWrite[]): number {
  let n = 0;
  for (const w of writes) n += w.json?.length ?? 0;
  return n;
}
