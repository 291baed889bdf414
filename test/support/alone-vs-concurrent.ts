// A coalesced statement must give each request exactly what that request gets when it runs alone. These
// helpers ask every caller for every path one at a time, then all at once (bounded rounds) until some
// requests were coalesced, and compare the answers.
import assert from 'node:assert/strict';

export type Answer = { status: number; body: string };
export const answer = (r: Answer): Answer => ({ status: r.status, body: r.body });

interface Client {
  get(path: string): Promise<Answer>;
}
interface CoalescingStats {
  coalesced: number;
  failedBatches: number;
}

export class AloneVsConcurrent {
  /** The getters are read at each use: callers, paths and the server come from the test file's `before`. */
  constructor(
    private readonly callers: () => Record<string, Client>,
    private readonly paths: () => string[],
    private readonly stats: () => CoalescingStats,
    /** 'reads', 'searches': named in the assertion messages. */
    private readonly what: string,
  ) {}

  /** Every caller asking every path, interleaved (each path by each caller in turn). */
  private requests() {
    const callers = Object.entries(this.callers());
    return this.paths().flatMap((path) => callers.map(([who, client]) => ({ who, client, path })));
  }

  /** What each caller gets for each path alone. */
  async alone(): Promise<Map<string, Answer>> {
    const m = new Map<string, Answer>();
    for (const r of this.requests()) m.set(`${r.who} ${r.path}`, answer(await r.client.get(r.path)));
    return m;
  }

  /** Rounds of concurrent requests (at most 30) until some were coalesced; every answer as alone, no batch failed. */
  async concurrently(expected: Map<string, Answer>): Promise<void> {
    const stats = this.stats();
    const before = stats.coalesced;
    const failedBefore = stats.failedBatches;
    for (let round = 0; round < 30 && stats.coalesced === before; round++) {
      const rs = this.requests();
      const got = await Promise.all(rs.map((r) => r.client.get(r.path)));
      rs.forEach((r, k) => assert.deepEqual(answer(got[k]!), expected.get(`${r.who} ${r.path}`), `${r.who} ${r.path}`));
    }
    assert.ok(stats.coalesced > before, `${this.what} were coalesced`);
    assert.equal(stats.failedBatches, failedBefore, 'no batch statement failed');
  }
}
