// PostgreSQL tables of the process engine (component 'bpe-engine'). Runtime rows (executions,
// variables, subscriptions, jobs, user tasks) exist only while an instance runs; history rows stay.
import type pg from 'pg';
import { migrate, type Migration } from '../../db/migrate.ts';

export const ENGINE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'engine tables',
    sql: `
CREATE TABLE bpmn_process_definition (
  id TEXT PRIMARY KEY,
  key TEXT NOT NULL,
  version INT NOT NULL,
  version_tag TEXT,
  name TEXT,
  resource_name TEXT,
  bpmn_xml TEXT NOT NULL,
  suspended BOOLEAN NOT NULL DEFAULT false,
  deployed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (key, version)
);
CREATE TABLE bpmn_process_instance (
  id TEXT PRIMARY KEY,
  definition_id TEXT NOT NULL REFERENCES bpmn_process_definition(id),
  definition_key TEXT NOT NULL,
  business_key TEXT,
  alternative_business_key TEXT,
  super_execution_id TEXT,
  super_instance_id TEXT,
  state TEXT NOT NULL,
  start_activity_id TEXT,
  end_activity_id TEXT,
  start_time TIMESTAMPTZ NOT NULL,
  end_time TIMESTAMPTZ,
  outcome TEXT,
  -- the process variables at the end, as {name: {type, value}}: history of what an instance produced
  end_variables JSONB
);
CREATE INDEX bpmn_process_instance_business_key ON bpmn_process_instance (business_key) WHERE state = 'active';
CREATE INDEX bpmn_process_instance_alt_business_key ON bpmn_process_instance (alternative_business_key) WHERE state = 'active';
CREATE INDEX bpmn_process_instance_definition ON bpmn_process_instance (definition_id, state);
CREATE TABLE bpmn_execution (
  id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  parent_id TEXT,
  data JSONB NOT NULL
);
CREATE INDEX bpmn_execution_instance ON bpmn_execution (instance_id);
CREATE TABLE bpmn_variable (
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  value JSONB,
  text_value TEXT,
  PRIMARY KEY (execution_id, name)
);
CREATE INDEX bpmn_variable_instance ON bpmn_variable (instance_id);
CREATE INDEX bpmn_variable_lookup ON bpmn_variable (name, text_value);
CREATE TABLE bpmn_event_subscription (
  id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  activity_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  event_name TEXT NOT NULL,
  business_key TEXT,
  correlation_key TEXT,
  created TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX bpmn_event_subscription_instance ON bpmn_event_subscription (instance_id);
CREATE INDEX bpmn_event_subscription_business_key ON bpmn_event_subscription (event_type, event_name, business_key);
CREATE INDEX bpmn_event_subscription_correlation_key ON bpmn_event_subscription (event_type, event_name, correlation_key);
CREATE TABLE bpmn_job (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  instance_id TEXT,
  execution_id TEXT,
  definition_id TEXT,
  activity_id TEXT,
  due_at TIMESTAMPTZ NOT NULL,
  retries INT NOT NULL,
  payload JSONB NOT NULL DEFAULT '{}',
  exception TEXT,
  failed_at TIMESTAMPTZ,
  created TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX bpmn_job_due ON bpmn_job (due_at) WHERE retries > 0;
CREATE INDEX bpmn_job_instance ON bpmn_job (instance_id);
CREATE INDEX bpmn_job_definition ON bpmn_job (definition_id) WHERE definition_id IS NOT NULL;
CREATE TABLE bpmn_user_task (
  id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  activity_id TEXT NOT NULL,
  name TEXT,
  form_key TEXT,
  business_key TEXT,
  definition_key TEXT NOT NULL,
  created TIMESTAMPTZ NOT NULL
);
CREATE INDEX bpmn_user_task_instance ON bpmn_user_task (instance_id);
CREATE TABLE bpmn_history_activity (
  id TEXT PRIMARY KEY,
  seq BIGSERIAL,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  activity_id TEXT NOT NULL,
  activity_type TEXT NOT NULL,
  start_time TIMESTAMPTZ NOT NULL,
  end_time TIMESTAMPTZ,
  outcome TEXT
);
CREATE INDEX bpmn_history_activity_instance ON bpmn_history_activity (instance_id, seq);
`,
  },
  {
    version: 2,
    name: 'signal start events',
    // Which signals start a definition, so a thrown signal finds them with one query.
    sql: `ALTER TABLE bpmn_process_definition ADD COLUMN signal_start_names TEXT[] NOT NULL DEFAULT '{}';`,
  },
];

export async function migrateEngine(pool: pg.Pool): Promise<number[]> {
  return migrate(pool, 'bpe-engine', ENGINE_MIGRATIONS);
}
