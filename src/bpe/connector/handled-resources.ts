// The record that makes each Task and QuestionnaireResponse handled once: a row is claimed before the
// BPE writes anything for the resource, and finished in the same transaction as the engine command
// it caused (start, correlation, user task completion). Claimed rows left by a crash are resumed.
import type pg from 'pg';
import type { PoolClient } from 'pg';

export type HandledType = 'Task' | 'QuestionnaireResponse';

/** The resource was finished by someone else meanwhile (the engine command rolls back). */
export class AlreadyHandled extends Error {
  constructor(type: string, id: string) {
    super(`${type}/${id} was handled already`);
    this.name = 'AlreadyHandled';
  }
}

export interface ClaimedResource {
  id: string;
  versionId: string | null;
  detail: string | null;
}

export class HandledResources {
  constructor(private readonly pool: pg.Pool) {}

  /** True when this call claimed the resource; false when it is known already (claimed or finished). */
  async claim(type: HandledType, id: string, versionId: string | undefined, detail?: string): Promise<boolean> {
    const r = await this.pool.query(
      "INSERT INTO bpe_handled_resource (type, id, version_id, state, detail) VALUES ($1, $2, $3, 'claimed', $4) ON CONFLICT (type, id) DO NOTHING",
      [type, id, versionId ?? null, detail ?? null],
    );
    return r.rowCount === 1;
  }

  async state(type: HandledType, id: string): Promise<string | undefined> {
    return (await this.pool.query('SELECT state FROM bpe_handled_resource WHERE type = $1 AND id = $2', [type, id])).rows[0]?.state;
  }

  /** Inside an engine command's transaction: claimed -> state, or AlreadyHandled (rolls the command back). */
  async finishIn(client: PoolClient, type: HandledType, id: string, state: string, detail?: string): Promise<void> {
    const r = await client.query(
      "UPDATE bpe_handled_resource SET state = $3, detail = COALESCE($4, detail), finished_at = now() WHERE type = $1 AND id = $2 AND state = 'claimed'",
      [type, id, state, detail ?? null],
    );
    if (r.rowCount !== 1) throw new AlreadyHandled(type, id);
  }

  /** Outside any engine command (failures, ignored resources). */
  async finish(type: HandledType, id: string, state: string, detail?: string): Promise<void> {
    await this.pool.query(
      "UPDATE bpe_handled_resource SET state = $3, detail = COALESCE($4, detail), finished_at = now() WHERE type = $1 AND id = $2 AND state = 'claimed'",
      [type, id, state, detail ?? null],
    );
  }

  /** Claimed but never finished: the BPE stopped in between. */
  async unfinished(type: HandledType): Promise<ClaimedResource[]> {
    const rows = (await this.pool.query("SELECT id, version_id, detail FROM bpe_handled_resource WHERE type = $1 AND state = 'claimed' ORDER BY claimed_at", [type])).rows;
    return rows.map((r) => ({ id: r.id, versionId: r.version_id, detail: r.detail }));
  }
}
