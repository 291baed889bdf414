// The BPE server's own tables (component 'bpe'), next to the engine's bpmn_* tables in its database.
import type pg from 'pg';
import { migrate, type Migration } from '../db/migrate.ts';

export const BPE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'bpe tables',
    sql: `
-- Newest meta.lastUpdated handled per subscription type (Task, QuestionnaireResponse): where a catch-up starts.
CREATE TABLE bpe_last_event (
  type TEXT PRIMARY KEY,
  last_event TIMESTAMPTZ NOT NULL
);
-- Every Task / QuestionnaireResponse the BPE took on, so each is handled once: 'claimed' before the
-- first write to the FHIR server, then 'started'/'correlated'/'completed'/'failed'/'ignored'.
CREATE TABLE bpe_handled_resource (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version_id TEXT,
  state TEXT NOT NULL,
  detail TEXT,
  claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  finished_at TIMESTAMPTZ,
  PRIMARY KEY (type, id)
);
CREATE INDEX bpe_handled_resource_claimed ON bpe_handled_resource (type) WHERE state = 'claimed';
-- NEW/ACTIVE/DRAFT/RETIRED/EXCLUDED per process id and version (the reference's process_states).
CREATE TABLE bpe_process_state (
  process_id TEXT NOT NULL,
  version TEXT NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (process_id, version)
);
-- FHIR resources deployed for a process (the reference's process_plugin_resources): what was written,
-- with which status, so an unchanged second start writes nothing.
CREATE TABLE bpe_plugin_resource (
  process_id TEXT NOT NULL,
  version TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  criteria TEXT NOT NULL,
  resource_id TEXT,
  content_hash TEXT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (process_id, version, resource_type, criteria)
);
`,
  },
];

export async function migrateBpe(pool: pg.Pool): Promise<number[]> {
  return migrate(pool, 'bpe', BPE_MIGRATIONS);
}
