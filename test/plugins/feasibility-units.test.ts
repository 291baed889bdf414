// The feasibility plugin's pure parts: criteria parsing and the obfuscation of counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CriterionError, parseCriterion } from '../../plugins/research-common/cohort-selection.ts';
import { laplaceSample, obfuscateCount, obfuscationSettings } from '../../plugins/feasibility/src/obfuscation.ts';

test('criteria: the four counted types, decoded values (a + stays), no result parameters', () => {
  assert.deepEqual(parseCriterion('Observation?code=http://loinc.org|4548-4&value-quantity=ge6.5'), {
    type: 'Observation',
    params: [
      ['code', 'http://loinc.org|4548-4'],
      ['value-quantity', 'ge6.5'],
    ],
  });
  assert.deepEqual(parseCriterion('Patient?birthdate=lt2000-01-01T00:00:00%2B01:00').params, [['birthdate', 'lt2000-01-01T00:00:00+01:00']]);
  assert.deepEqual(parseCriterion('Consent'), { type: 'Consent', params: [] });
  assert.throws(() => parseCriterion('Encounter?class=IMP'), CriterionError);
  assert.throws(() => parseCriterion('Patient?_revinclude=Condition:subject'), /_revinclude not allowed/);
  assert.throws(() => parseCriterion('Patient?_summary=true'), CriterionError);
});

const settings = { threshold: 10, rounding: 10, noise: 'none' as const, epsilon: 1 };

test('below the threshold only "<threshold" is reported; above, the count rounded to the step, never below the threshold', () => {
  assert.deepEqual(obfuscateCount(0, settings), { reported: '<10' });
  assert.deepEqual(obfuscateCount(9, settings), { reported: '<10' });
  assert.deepEqual(obfuscateCount(10, settings), { reported: '10', count: 10 });
  assert.deepEqual(obfuscateCount(14, settings), { reported: '10', count: 10 });
  assert.deepEqual(obfuscateCount(15, settings), { reported: '20', count: 20 });
  assert.deepEqual(obfuscateCount(1234, { ...settings, rounding: 1 }), { reported: '1234', count: 1234 });
  assert.deepEqual(obfuscateCount(12, { ...settings, threshold: 12, rounding: 5 }), { reported: '15', count: 15 });
});

test('Laplace noise: the sampled noise has mean about 0 and mean absolute deviation about its scale; counts stay at or above the threshold', () => {
  let seed = 42;
  const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const n = 20_000;
  const samples = Array.from({ length: n }, () => laplaceSample(2, uniform()));
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  const mad = samples.reduce((a, b) => a + Math.abs(b), 0) / n;
  assert.ok(Math.abs(mean) < 0.1, `mean ${mean}`);
  assert.ok(Math.abs(mad - 2) < 0.1, `mean absolute deviation ${mad}`);
  for (let i = 0; i < 1000; i++) {
    const r = obfuscateCount(11, { ...settings, noise: 'laplace', epsilon: 0.1 }, uniform);
    assert.ok(r.count! >= 10 && r.count! % 10 === 0, r.reported);
  }
});

test('settings from properties: every problem at once', () => {
  const names = { threshold: 't', rounding: 'r', noise: 'n', epsilon: 'e' };
  assert.deepEqual(obfuscationSettings((k) => ({ t: '5', r: '1', n: 'laplace', e: '0.5' })[k]!, names), { threshold: 5, rounding: 1, noise: 'laplace', epsilon: 0.5 });
  assert.throws(
    () => obfuscationSettings((k) => ({ t: '-1', r: '0', n: 'gauss', e: '0' })[k]!, names),
    (e: Error) => ['t must', 'r must', 'n must', 'e must'].every((p) => e.message.includes(p)),
  );
});
