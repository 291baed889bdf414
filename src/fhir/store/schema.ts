// The FHIR store's tables. One table holds every version of every resource (jsonb), one the search
// index of the current versions, one the uniqueness keys DSF enforces. See docs/architecture.md.
import type { Migration } from '../../db/migrate.ts';

export const FHIR_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'resources, search index, unique keys',
    sql: `
CREATE TABLE resources (
  id UUID NOT NULL,
  version INT NOT NULL,
  type TEXT NOT NULL,
  last_updated TIMESTAMPTZ NOT NULL,
  deleted BOOLEAN NOT NULL DEFAULT false,
  current BOOLEAN NOT NULL,
  resource JSONB,
  PRIMARY KEY (id, version)
);
CREATE UNIQUE INDEX resources_current_id ON resources (id) WHERE current;
CREATE INDEX resources_current_type ON resources (type, last_updated, id) WHERE current AND NOT deleted;
CREATE INDEX resources_history_type ON resources (type, last_updated);
CREATE INDEX resources_history_all ON resources (last_updated);

-- One row per indexed value of the current version of a resource.
CREATE TABLE search_index (
  resource_id UUID NOT NULL,
  type TEXT NOT NULL,
  param TEXT NOT NULL,
  system TEXT,          -- token system, or the target type of a reference
  code TEXT,            -- token code, string/uri value, reference id
  norm TEXT,            -- normalised string, or the full reference / canonical
  ref_id UUID,          -- target id of a reference to a resource of this server
  lo TIMESTAMPTZ,       -- date ranges, half open [lo, hi)
  hi TIMESTAMPTZ
);
CREATE INDEX search_index_code ON search_index (type, param, code, system);
CREATE INDEX search_index_code_prefix ON search_index (type, param, code text_pattern_ops);
CREATE INDEX search_index_norm ON search_index (type, param, norm text_pattern_ops);
CREATE INDEX search_index_date ON search_index (type, param, lo, hi) WHERE lo IS NOT NULL;
CREATE INDEX search_index_ref ON search_index (ref_id, type, param) WHERE ref_id IS NOT NULL;
CREATE INDEX search_index_resource ON search_index (resource_id);

-- DSF's uniqueness rules (canonical url+version, organization identifier, ...), enforced by the database.
CREATE TABLE unique_keys (
  type TEXT NOT NULL,
  key TEXT NOT NULL,
  resource_id UUID NOT NULL,
  PRIMARY KEY (type, key)
);
CREATE INDEX unique_keys_resource ON unique_keys (resource_id);
`,
  },
  {
    version: 2,
    name: 'Binary content as large objects',
    sql: `
-- The content of each Binary version, as a PostgreSQL large object (streamed in chunks, never held whole).
-- Removing a version's row ($permanent-delete cascades from resources) unlinks its large object.
CREATE TABLE binary_content (
  resource_id UUID NOT NULL,
  version INT NOT NULL,
  oid OID NOT NULL,
  size BIGINT NOT NULL,
  PRIMARY KEY (resource_id, version),
  FOREIGN KEY (resource_id, version) REFERENCES resources (id, version) ON DELETE CASCADE
);
CREATE FUNCTION binary_content_unlink() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lo_unlink(OLD.oid);
  RETURN OLD;
END
$$;
CREATE TRIGGER binary_content_unlink AFTER DELETE ON binary_content FOR EACH ROW EXECUTE FUNCTION binary_content_unlink();
`,
  },
  {
    version: 3,
    name: 'resource sizes',
    sql: `
-- The length of each version's JSON, so that a search page can be bounded in bytes without reading
-- the resources it leaves out. NULL for versions written before (their stored size is the estimate).
ALTER TABLE resources ADD COLUMN size INT;
`,
  },
  {
    version: 4,
    name: 'numbers and quantities in the search index',
    sql: `
-- The value of number and quantity parameters (search/param-types/number.ts, quantity.ts); a quantity's
-- system and code use the token columns, its unit norm.
ALTER TABLE search_index ADD COLUMN num NUMERIC;
CREATE INDEX search_index_num ON search_index (type, param, num) WHERE num IS NOT NULL;
`,
  },
  {
    version: 5,
    name: 'uniqueness clashes fail the write statement',
    sql: `
-- Called at the end of the statement that writes versions (store/version-writes.ts) with the keys it
-- could not insert because other resources hold them: fails the statement, so that nothing of it
-- stays, also when it runs on its own outside BEGIN/COMMIT. The keys go in DETAIL as a JSON array.
CREATE FUNCTION dsf_refuse_key_clashes(clashes text[]) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(clashes) > 0 THEN
    RAISE EXCEPTION 'dsf_key_clash' USING ERRCODE = 'unique_violation', DETAIL = array_to_json(clashes)::text;
  END IF;
  RETURN 0;
END
$$;
`,
  },
  {
    version: 6,
    name: 'the write statement in a function with a generic plan',
    sql: `
-- The statement that writes versions (store/version-writes.ts calls it with the same parameters), in a
-- function so that it runs with a generic plan, prepared once per connection. As a prepared statement
-- under plan_cache_mode = auto PostgreSQL kept planning it anew for every execution (its custom plans
-- look cheaper than the generic one), at a cost that grew with the table: 365 to 586 µs of backend CPU
-- per create over the first 2,400 creates of a database, against a flat 290 µs with the generic plan.
-- Changing the statement means a new migration replacing this function.
CREATE FUNCTION dsf_write_versions(uuid[], uuid[], int[], text[], timestamptz[], boolean[], int[], jsonb,
  uuid[], text[], text[], text[], text[], text[], uuid[], timestamptz[], timestamptz[], numeric[],
  uuid[], text[], text[], boolean[]) RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
  refused int;
BEGIN
WITH old AS (UPDATE resources SET current = false WHERE id = ANY($1::uuid[]) AND current RETURNING id),
res AS (INSERT INTO resources (id, version, type, last_updated, deleted, current, resource, size)
  SELECT v.id, v.version, v.type, v.last_updated, v.deleted, true, NULLIF(j.resource, 'null'::jsonb), v.size
  FROM unnest($2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::boolean[], $7::int[]) WITH ORDINALITY AS v(id, version, type, last_updated, deleted, size, n)
  JOIN jsonb_array_elements($8::jsonb) WITH ORDINALITY AS j(resource, n) ON j.n = v.n
  CROSS JOIN (SELECT count(*) FROM old) o
  ORDER BY v.n),
idx_old AS (DELETE FROM search_index WHERE resource_id = ANY($1::uuid[])),
idx AS (INSERT INTO search_index (resource_id, type, param, system, code, norm, ref_id, lo, hi, num)
  SELECT * FROM unnest($9::uuid[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::uuid[], $16::timestamptz[], $17::timestamptz[], $18::numeric[])),
keys_old AS (DELETE FROM unique_keys u WHERE u.resource_id = ANY($1::uuid[])
  AND NOT EXISTS (SELECT 1 FROM unnest($19::uuid[], $21::text[]) AS k(resource_id, key) WHERE k.resource_id = u.resource_id AND k.key = u.key) RETURNING 1),
keys_new AS (SELECT k.resource_id, k.type, k.key, k.n FROM unnest($19::uuid[], $20::text[], $21::text[], $22::boolean[]) WITH ORDINALITY AS k(resource_id, type, key, held, n)
  WHERE NOT k.held AND NOT EXISTS (SELECT 1 FROM unique_keys u WHERE u.type = k.type AND u.key = k.key AND u.resource_id = k.resource_id)),
ins AS (INSERT INTO unique_keys (type, key, resource_id)
  SELECT k.type, k.key, k.resource_id FROM keys_new k CROSS JOIN (SELECT count(*) FROM keys_old) d ORDER BY k.n
  ON CONFLICT DO NOTHING RETURNING resource_id, key)
SELECT dsf_refuse_key_clashes(array_agg(k.resource_id::text || '|' || k.key ORDER BY k.n)) INTO refused
  FROM keys_new k WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.resource_id = k.resource_id AND ins.key = k.key);
END
$fn$;
`,
  },
  {
    version: 7,
    name: 'search parameter Task business-key: index rows of the Tasks stored before',
    sql: `
-- The rows search/parameters.ts ('Task.business-key', a token) gives a Task: one per business-key input
-- with a string value, its code the value, no system. Current, not deleted versions only, as the index.
INSERT INTO search_index (resource_id, type, param, code)
SELECT r.id, 'Task', 'business-key', i.value->>'valueString'
FROM resources r
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.resource->'input') = 'array' THEN r.resource->'input' ELSE '[]'::jsonb END) AS i(value)
WHERE r.type = 'Task' AND r.current AND NOT r.deleted
  AND jsonb_typeof(i.value->'valueString') = 'string'
  AND i.value->'type'->'coding' @> '[{"system": "http://dsf.dev/fhir/CodeSystem/bpmn-message", "code": "business-key"}]';
`,
  },
  {
    version: 8,
    name: 'the write statement finds rows by key only',
    sql: `
-- The generic plan of the write statement is made at a connection's first write and kept. Made while
-- the tables were small (a few thousand index rows), it deleted the replaced versions' index rows with
-- a sequential scan of search_index, on every later write of that connection, creates included: a cost
-- that grew with the table (2,800 rows read per create at 1 client in the bench). Every row the
-- statement reads has a key with an index (resources by id, search_index and unique_keys by resource
-- id, unique_keys by type and key), so sequential scans are ruled out for it. No JIT either: should a
-- plan ever have to scan something sequentially, that counts as very costly with them off, and the
-- statement would be compiled on every call.
ALTER FUNCTION dsf_write_versions(uuid[], uuid[], int[], text[], timestamptz[], boolean[], int[], jsonb,
  uuid[], text[], text[], text[], text[], text[], uuid[], timestamptz[], timestamptz[], numeric[],
  uuid[], text[], text[], boolean[]) SET enable_seqscan = off SET jit = off;
`,
  },
  {
    version: 9,
    name: 'fewer search index entries per row',
    sql: `
-- Each search_index row had an entry in four indexes besides the partial ones; a create of a small
-- resource (three token rows) wrote 15 of its 29 WAL records for search_index. Two entries per row
-- were redundant:
-- - (type, param, code, system) and (type, param, code text_pattern_ops) served the same searches:
--   one index (type, param, code text_pattern_ops, system) answers code = x, code = x AND system = y,
--   system = y and code LIKE 'x%' (its operator class has = and the prefix comparisons).
-- - search_index_norm held an entry for every row, though only string, uri, reference and quantity
--   rows have a norm; every condition on norm (=, LIKE) implies norm IS NOT NULL, so a partial index
--   serves them all.
DROP INDEX search_index_code;
DROP INDEX search_index_code_prefix;
CREATE INDEX search_index_code ON search_index (type, param, code text_pattern_ops, system);
DROP INDEX search_index_norm;
CREATE INDEX search_index_norm ON search_index (type, param, norm text_pattern_ops) WHERE norm IS NOT NULL;
`,
  },
  {
    version: 10,
    name: 'the write statement without the replacing and key steps for creates without keys',
    sql: `
-- Writes that replace no version and hold no uniqueness key (creates of most types, e.g. Patient, Task)
-- run a statement of two inserts: the full statement's other steps found nothing to do for them, but
-- each still opened its table and indexes (about 120 µs of backend CPU per call, a fifth of a lone
-- create's). Other writes run the statement of migration 6 unchanged.
CREATE OR REPLACE FUNCTION dsf_write_versions(uuid[], uuid[], int[], text[], timestamptz[], boolean[], int[], jsonb,
  uuid[], text[], text[], text[], text[], text[], uuid[], timestamptz[], timestamptz[], numeric[],
  uuid[], text[], text[], boolean[]) RETURNS void LANGUAGE plpgsql
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $fn$
DECLARE
  refused int;
BEGIN
IF cardinality($1) = 0 AND cardinality($19) = 0 THEN
WITH res AS (INSERT INTO resources (id, version, type, last_updated, deleted, current, resource, size)
  SELECT v.id, v.version, v.type, v.last_updated, v.deleted, true, NULLIF(j.resource, 'null'::jsonb), v.size
  FROM unnest($2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::boolean[], $7::int[]) WITH ORDINALITY AS v(id, version, type, last_updated, deleted, size, n)
  JOIN jsonb_array_elements($8::jsonb) WITH ORDINALITY AS j(resource, n) ON j.n = v.n
  ORDER BY v.n)
INSERT INTO search_index (resource_id, type, param, system, code, norm, ref_id, lo, hi, num)
  SELECT * FROM unnest($9::uuid[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::uuid[], $16::timestamptz[], $17::timestamptz[], $18::numeric[]);
RETURN;
END IF;
WITH old AS (UPDATE resources SET current = false WHERE id = ANY($1::uuid[]) AND current RETURNING id),
res AS (INSERT INTO resources (id, version, type, last_updated, deleted, current, resource, size)
  SELECT v.id, v.version, v.type, v.last_updated, v.deleted, true, NULLIF(j.resource, 'null'::jsonb), v.size
  FROM unnest($2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::boolean[], $7::int[]) WITH ORDINALITY AS v(id, version, type, last_updated, deleted, size, n)
  JOIN jsonb_array_elements($8::jsonb) WITH ORDINALITY AS j(resource, n) ON j.n = v.n
  CROSS JOIN (SELECT count(*) FROM old) o
  ORDER BY v.n),
idx_old AS (DELETE FROM search_index WHERE resource_id = ANY($1::uuid[])),
idx AS (INSERT INTO search_index (resource_id, type, param, system, code, norm, ref_id, lo, hi, num)
  SELECT * FROM unnest($9::uuid[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::uuid[], $16::timestamptz[], $17::timestamptz[], $18::numeric[])),
keys_old AS (DELETE FROM unique_keys u WHERE u.resource_id = ANY($1::uuid[])
  AND NOT EXISTS (SELECT 1 FROM unnest($19::uuid[], $21::text[]) AS k(resource_id, key) WHERE k.resource_id = u.resource_id AND k.key = u.key) RETURNING 1),
keys_new AS (SELECT k.resource_id, k.type, k.key, k.n FROM unnest($19::uuid[], $20::text[], $21::text[], $22::boolean[]) WITH ORDINALITY AS k(resource_id, type, key, held, n)
  WHERE NOT k.held AND NOT EXISTS (SELECT 1 FROM unique_keys u WHERE u.type = k.type AND u.key = k.key AND u.resource_id = k.resource_id)),
ins AS (INSERT INTO unique_keys (type, key, resource_id)
  SELECT k.type, k.key, k.resource_id FROM keys_new k CROSS JOIN (SELECT count(*) FROM keys_old) d ORDER BY k.n
  ON CONFLICT DO NOTHING RETURNING resource_id, key)
SELECT dsf_refuse_key_clashes(array_agg(k.resource_id::text || '|' || k.key ORDER BY k.n)) INTO refused
  FROM keys_new k WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.resource_id = k.resource_id AND ins.key = k.key);
END
$fn$;
`,
  },
  {
    version: 11,
    name: 'fewer index entries per version: the history indexes',
    sql: `
-- A create wrote 16 index entries, 7 of them for its resources row. Two only served histories:
-- - resources_history_all (last_updated of every version) is read only by the system history's _since
--   and _at, which count and sort all the versions they select. Versions are appended roughly in
--   last_updated order, so the block ranges a BRIN index keeps select them for a fraction of a btree's
--   cost of writing; blocks not summarized yet (the newest) are always read, which a _since reads anyway.
-- - resources_history_type (type, last_updated of every version) is read only by a type's history; the
--   current versions are in resources_current_type already, so it keeps the others only (store reads
--   the two parts, resource-store.ts TYPE_VERSIONS). A version stops being current by an update of its
--   row, which writes the new row's entries into this index then.
DROP INDEX resources_history_all;
CREATE INDEX resources_history_all ON resources USING brin (last_updated) WITH (pages_per_range = 16, autosummarize = on);
DROP INDEX resources_history_type;
CREATE INDEX resources_history_type ON resources (type, last_updated) WHERE NOT current OR deleted;
`,
  },
];

/**
 * The PostgreSQL channel on which a server process says, after it committed writes, that the change
 * stream has news (store/change-stream.ts); the notification carries no payload.
 */
export const CHANGE_CHANNEL = 'dsf_events';

/** Migrations of the component 'fhir-events' (run after the store's own). */
export const EVENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'notify dsf_events on every new resource version',
    sql: `
CREATE FUNCTION dsf_notify_resource_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Type/id/version[/deleted]: small enough for the 8000-byte payload limit; listeners load the version.
  PERFORM pg_notify('${CHANGE_CHANNEL}', NEW.type || '/' || NEW.id || '/' || NEW.version || CASE WHEN NEW.deleted THEN '/deleted' ELSE '' END);
  RETURN NULL;
END
$$;
CREATE TRIGGER resources_notify AFTER INSERT ON resources FOR EACH ROW EXECUTE FUNCTION dsf_notify_resource_version();
`,
  },
  {
    version: 2,
    name: 'change stream: sequence number and writing transaction of every version, no trigger',
    sql: `
-- pg_notify in the writing transaction serialised every commit (PostgreSQL holds one lock for all
-- notifying commits through the WAL flush). Instead each version records its writing transaction and a
-- number, and readers find what committed since they last looked (store/change-stream.ts).
DROP TRIGGER resources_notify ON resources;
DROP FUNCTION dsf_notify_resource_version();
CREATE SEQUENCE resources_change_seq AS bigint;
ALTER TABLE resources ADD COLUMN change_seq BIGINT, ADD COLUMN change_xact xid8;
-- Versions written before get numbers in the order they were written, and no transaction: they were
-- announced by the trigger already, so no reader delivers them again.
UPDATE resources r SET change_seq = o.n
  FROM (SELECT id, version, row_number() OVER (ORDER BY last_updated, version, id) AS n FROM resources) o
  WHERE r.id = o.id AND r.version = o.version;
SELECT setval('resources_change_seq', COALESCE((SELECT max(change_seq) FROM resources), 0) + 1, false);
ALTER SEQUENCE resources_change_seq OWNED BY resources.change_seq;
-- Taken when the row is inserted (after the resource's write lock), kept when the row stops being current.
ALTER TABLE resources
  ALTER COLUMN change_seq SET DEFAULT nextval('resources_change_seq'),
  ALTER COLUMN change_seq SET NOT NULL,
  ALTER COLUMN change_xact SET DEFAULT pg_current_xact_id();
CREATE INDEX resources_change_xact ON resources (change_xact);
`,
  },
  {
    version: 3,
    name: 'change stream: index on change_seq for reading a large step page by page',
    sql: `
-- The pages after the first of a step continue from the last number read (store/change-stream.ts);
-- without this index each page would scan the whole step again.
CREATE INDEX resources_change_seq_order ON resources (change_seq);
`,
  },
];
