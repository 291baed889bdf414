// Process states (the reference's BpmnProcessStateChangeService): every loaded process is deployed to
// the engine; each process id + version then is ACTIVE, DRAFT (from a draft plugin), RETIRED or
// EXCLUDED (DEV_DSF_BPE_PROCESS_RETIRED / _EXCLUDED, or no longer in any plugin). RETIRED and EXCLUDED
// suspend the definitions (no new instances; running ones go on); back to ACTIVE/DRAFT activates.
import type pg from 'pg';
import type { ProcessEngine } from '../engine/index.ts';
import type { ProcessIdAndVersion } from '../config.ts';
import { processKey, type LoadedPlugin } from './loaded-plugin.ts';

export type ProcessState = 'NEW' | 'ACTIVE' | 'DRAFT' | 'RETIRED' | 'EXCLUDED';

/** Which state wins when processes share a FHIR resource. */
export const STATE_PRIORITY: Record<ProcessState, number> = { NEW: -1, EXCLUDED: 0, RETIRED: 1, DRAFT: 2, ACTIVE: 3 };

export interface ProcessStateChange {
  processId: string;
  version: string;
  oldState: ProcessState;
  newState: ProcessState;
}

export interface StateOptions {
  excluded: readonly ProcessIdAndVersion[];
  retired: readonly ProcessIdAndVersion[];
}

export async function readProcessStates(pool: pg.Pool): Promise<Map<string, ProcessState>> {
  const rows = (await pool.query('SELECT process_id, version, state FROM bpe_process_state')).rows;
  return new Map(rows.map((r) => [processKey(r.process_id, r.version), r.state as ProcessState]));
}

/** Deploys the plugins' processes and brings every known process into its state; returns the changes. */
export async function deployProcesses(engine: ProcessEngine, pool: pg.Pool, plugins: readonly LoadedPlugin[], options: StateOptions): Promise<ProcessStateChange[]> {
  const old = await readProcessStates(pool);
  const loaded = new Map<string, { draft: boolean }>();
  for (const plugin of plugins) {
    for (const p of plugin.processes) {
      const [def] = await engine.deploy(p.xml, { resourceName: `${plugin.folder}/${p.file}` });
      loaded.set(processKey(p.processId, p.version), { draft: plugin.draft });
      if (plugin.draft) {
        // A changed draft deploys a new definition with the same version tag: only the newest stays active.
        for (const d of await engine.listDefinitions(p.processId)) {
          if (d.versionTag === p.version && d.id !== def!.id && !d.suspended) await engine.suspendDefinition(d.id);
        }
      }
    }
  }
  const isListed = (list: readonly ProcessIdAndVersion[], key: string) => list.some((x) => processKey(x.processId, x.version) === key);
  const byProcess = new Map<string, Array<{ id: string; version: number; suspended: boolean }>>();
  for (const d of await engine.listDefinitions()) {
    const key = processKey(d.key, d.versionTag ?? '');
    byProcess.set(key, [...(byProcess.get(key) ?? []), { id: d.id, version: d.version, suspended: d.suspended }]);
  }
  const changes: ProcessStateChange[] = [];
  for (const [key, definitions] of byProcess) {
    const [processId, version] = key.split('|') as [string, string];
    const l = loaded.get(key);
    let state: ProcessState = l ? (l.draft ? 'DRAFT' : 'ACTIVE') : 'EXCLUDED';
    if (isListed(options.excluded, key)) state = 'EXCLUDED';
    else if (isListed(options.retired, key)) state = 'RETIRED';
    if (state === 'RETIRED' || state === 'EXCLUDED') {
      for (const d of definitions) if (!d.suspended) await engine.suspendDefinition(d.id);
    } else {
      const newest = definitions.reduce((a, b) => (b.version > a.version ? b : a));
      if (newest.suspended) await engine.activateDefinition(newest.id);
    }
    changes.push({ processId, version, oldState: old.get(key) ?? 'NEW', newState: state });
  }
  await pool.query(
    `INSERT INTO bpe_process_state (process_id, version, state) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
     ON CONFLICT (process_id, version) DO UPDATE SET state = EXCLUDED.state`,
    [changes.map((c) => c.processId), changes.map((c) => c.version), changes.map((c) => c.newState)],
  );
  return changes.sort((a, b) => processKey(a.processId, a.version).localeCompare(processKey(b.processId, b.version)));
}
