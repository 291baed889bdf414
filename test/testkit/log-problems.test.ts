// A timed-out wait of the test kit names the site's last warnings and errors: which lines count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recentProblems } from '../../src/testkit/log-problems.ts';

const bpe = (level: string, message: string) => `2026-12-07T07:05:25.826Z ${level.padEnd(5)} [bpe] ${message}`;
const fhir = (level: number, msg: string) => JSON.stringify({ level, time: 1796626000000, pid: 1, hostname: 'h', msg });

test('the BPE’s WARN and ERROR lines and the FHIR server’s pino lines of level 40 and up count; others do not', () => {
  const lines = [
    bpe('INFO', 'Started process x'),
    bpe('WARN', 'Unable to correlate Task 1: no instance'),
    'a plain line that mentions WARN in passing',
    fhir(30, 'request completed'),
    fhir(40, 'refused: unknown search parameter'),
    bpe('DEBUG', 'ERROR in the text of a debug line'),
    bpe('ERROR', 'job SendExecute failed, no retries left'),
    fhir(50, 'database unavailable'),
  ];
  assert.deepEqual(recentProblems(lines), [lines[1], lines[4], lines[6], lines[7]]);
});

test('only the most recent ones, oldest first; none in a quiet log', () => {
  const lines = Array.from({ length: 30 }, (_, i) => bpe(i % 2 ? 'WARN' : 'INFO', `line ${i}`));
  assert.deepEqual(recentProblems(lines, 3), [lines[25], lines[27], lines[29]]);
  assert.deepEqual(recentProblems([bpe('INFO', 'all well')]), []);
});
