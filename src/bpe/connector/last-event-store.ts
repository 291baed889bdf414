// Newest meta.lastUpdated handled per subscription type: a catch-up searches from a little before it.
import type pg from 'pg';

export class LastEventStore {
  constructor(private readonly pool: pg.Pool) {}

  async read(type: string): Promise<Date | undefined> {
    const row = (await this.pool.query('SELECT last_event FROM bpe_last_event WHERE type = $1', [type])).rows[0];
    return row ? new Date(row.last_event) : undefined;
  }

  /** Moves forward only: events handled out of timestamp order never move it back. */
  async advance(type: string, lastUpdated: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO bpe_last_event (type, last_event) VALUES ($1, $2)
       ON CONFLICT (type) DO UPDATE SET last_event = GREATEST(bpe_last_event.last_event, EXCLUDED.last_event)`,
      [type, lastUpdated],
    );
  }
}
