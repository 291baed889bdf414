// Every stored version of a resource announces itself on the PostgreSQL channel `dsf_events`.
// A trigger on the resource table (store/schema.ts: the store owns the schema) does it inside the
// writing transaction: PostgreSQL delivers notifications only when that transaction commits, in commit
// order, to every listening connection of every server process on the database, and drops them on
// rollback. That is exactly "once per committed change". A trigger (rather than a write hook issuing
// pg_notify) costs no extra round trip per write and cannot be bypassed by a write path that forgets it.
// This file reads the announcements.

/** One committed change as announced on the channel. */
export interface ResourceChange {
  type: string;
  id: string;
  version: number;
  deleted: boolean;
}

export function parseChange(payload: string): ResourceChange | undefined {
  const m = /^([A-Za-z]+)\/([0-9a-f-]{36})\/(\d+)(\/deleted)?$/.exec(payload);
  if (!m) return undefined;
  return { type: m[1]!, id: m[2]!, version: Number(m[3]), deleted: m[4] !== undefined };
}
