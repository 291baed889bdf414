// A job given up at shutdown (abandonRunningJob, then its connection is cut) fails with whatever its cut
// connection makes it fail with: that is no failure of the job. No retry is counted, onJobFailure is not
// called, the job stays due and runs again (after the restart).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { bpmn, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

let f: EngineFixture | undefined;
after(async () => {
  await f?.engine.stopJobExecutor();
  await f?.db.drop();
});

test('an abandoned job that then fails keeps its retries and is not reported as failed', async () => {
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  let fail!: (e: Error) => void;
  const cut = new Promise<void>((_resolve, reject) => (fail = reject));
  let runs = 0;
  const failures: string[] = [];
  f = await engineFixture({
    delegates: new Map([
      [
        'test.Slow',
        fn(async () => {
          runs++;
          if (runs === 1) {
            started();
            await cut; // the first run is still under way when the shutdown gives up on it
          }
        }),
      ],
    ]),
    jobs: { pollIntervalMs: 50, onJobFailure: (jobId) => void failures.push(jobId) },
  });
  await f.engine.deploy(bpmn('abandoned', `<bpmn:startEvent id="s" /><bpmn:serviceTask id="work" camunda:class="test.Slow" camunda:asyncBefore="true" /><bpmn:endEvent id="e" />${seq('a', 's', 'work')}${seq('b', 'work', 'e')}`));
  const instance = await f.engine.startProcessByKey('abandoned');
  f.engine.startJobExecutor();
  await running;
  const stopped = f.engine.stopJobExecutor();
  f.engine.abandonRunningJob();
  fail(new Error('Connection terminated'));
  await stopped;
  assert.deepEqual(failures, []);
  const jobs = (await f.db.pool.query('SELECT retries, exception FROM bpmn_job WHERE instance_id = $1', [instance.id])).rows;
  assert.deepEqual(jobs, [{ retries: 3, exception: null }], 'still due with all its retries');
  // The next run (after the restart) completes it.
  assert.equal(await f.engine.runDueJobs(), 1);
  assert.equal(runs, 2);
  assert.equal((await f.engine.getInstance(instance.id))?.state, 'completed');
});
