// Every stored version of a resource announces itself on the PostgreSQL channel `dsf_events`.
// A trigger on `resources` does it inside the writing transaction: PostgreSQL delivers notifications
// only when that transaction commits, in commit order, to every listening connection of every server
// process on the database, and drops them on rollback. That is exactly "once per committed change".
// A trigger (rather than a write hook issuing pg_notify) costs no extra round trip per write and
// cannot be bypassed by a write path that forgets the hook.
import type { Migration } from '../../db/migrate.ts';

export const EVENTS_CHANNEL = 'dsf_events';

/** Migrations of the component 'fhir-events' (run after the store's own). */
export const EVENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'notify dsf_events on every new resource version',
    sql: `
CREATE FUNCTION dsf_notify_resource_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Type/id/version[/deleted]: small enough for the 8000-byte payload limit; listeners load the version.
  PERFORM pg_notify('${EVENTS_CHANNEL}', NEW.type || '/' || NEW.id || '/' || NEW.version || CASE WHEN NEW.deleted THEN '/deleted' ELSE '' END);
  RETURN NULL;
END
$$;
CREATE TRIGGER resources_notify AFTER INSERT ON resources FOR EACH ROW EXECUTE FUNCTION dsf_notify_resource_version();
`,
  },
];

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
