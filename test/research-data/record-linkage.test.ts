// Record-linkage building blocks: keyed Bloom-filter encoding of quasi-identifiers, Dice similarity,
// linkage at a threshold with clusters of at most one record per site, and its quality on generated
// records with known duplicates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bigrams, dice, encodeRecord, fromBase64, normalize, toBase64 } from '../../plugins/data-sharing/src/linkage/bloom-filter-encoding.ts';
import { duplicateRecords } from '../../src/research-data/linkage/duplicate-records.ts';
import { linkageQuality, linkRecords, recordKey } from '../../plugins/data-sharing/src/linkage/record-linkage.ts';

const KEY = 'a secret the sites share';
const person = { given: 'Jürgen', family: 'Müller-Lüdenscheidt', birthDate: '1961-04-07', sex: 'male', postalCode: '04103' };

test('normalisation and bigrams: upper case, no diacritics, padded', () => {
  assert.equal(normalize('  Jürgen  Groß-Weiß '), 'JURGEN GROSS WEISS');
  assert.deepEqual(bigrams('Ab'), [' A', 'AB', 'B ']);
  assert.deepEqual(bigrams(''), []);
});

test('encoding: deterministic for a key, similar for a typo, unrelated under another key or for another person', () => {
  const a = encodeRecord(person, { key: KEY });
  assert.deepEqual(encodeRecord(person, { key: KEY }), a);
  assert.equal(dice(a, a), 1);
  const typo = encodeRecord({ ...person, family: 'Müller-Lüdenscheid' }, { key: KEY });
  assert.ok(dice(a, typo) > 0.9, `typo ${dice(a, typo)}`);
  const otherKey = encodeRecord(person, { key: 'another key' });
  assert.ok(dice(a, otherKey) < 0.6, `other key ${dice(a, otherKey)}`);
  const other = encodeRecord({ given: 'Anna', family: 'Schmidt', birthDate: '1990-12-24', sex: 'female', postalCode: '80331' }, { key: KEY });
  assert.ok(dice(a, other) < 0.6, `other person ${dice(a, other)}`);
  // Length and hash count are settings; the filter round-trips as base64 and holds no plain text.
  const small = encodeRecord(person, { key: KEY, length: 512, hashCount: 10 });
  assert.equal(small.bits.length, 16);
  assert.equal(a.bits.length, 64, "2048 bits by default");
  const text = toBase64(a);
  assert.deepEqual(fromBase64(text), a);
  assert.doesNotMatch(Buffer.from(text, 'base64').toString('latin1'), /MULLER|Müller|1961/i);
  assert.throws(() => encodeRecord(person, { key: KEY, length: 100 }), /multiple of 32/);
});

test('linkage at the TTP: generated duplicates with errors found with high precision and recall; one record per site per cluster', () => {
  const records = duplicateRecords({ sites: ['DIC_A', 'DIC_B', 'DIC_C'], persons: 600, overlap: 0.3, errorRate: 0.4 });
  const truth = new Map(records.map((r) => [recordKey(r), r.person]));
  assert.ok(records.length > 700 && records.length < 860, `${records.length} records`);
  const encoded = records.map((r) => ({ site: r.site, handle: r.handle, filter: encodeRecord(r.fields, { key: KEY }) }));
  const { pseudonyms, comparisons } = linkRecords(encoded, 0.8);
  assert.ok(comparisons > 0);
  const quality = linkageQuality(records, pseudonyms);
  assert.ok(quality.truePairs > 150, `true pairs ${quality.truePairs}`);
  assert.ok(quality.precision >= 0.95, `precision ${quality.precision}`);
  assert.ok(quality.recall >= 0.85, `recall ${quality.recall}`);
  // No cluster has two records of one site.
  const clusters = new Map<string, string[]>();
  for (const r of records) clusters.set(pseudonyms.get(recordKey(r))!, [...(clusters.get(pseudonyms.get(recordKey(r))!) ?? []), r.site]);
  for (const sites of clusters.values()) assert.equal(new Set(sites).size, sites.length);
  // A stricter threshold links fewer pairs: precision does not drop, recall does not rise.
  const strict = linkageQuality(records, linkRecords(encoded, 0.95).pseudonyms);
  assert.ok(strict.predictedPairs <= quality.predictedPairs);
  assert.ok(strict.recall <= quality.recall);
  assert.ok(truth.size === records.length);
});

test('the generator is deterministic and keeps the ground truth', () => {
  const a = duplicateRecords({ sites: ['X', 'Y'], persons: 50 });
  assert.deepEqual(duplicateRecords({ sites: ['X', 'Y'], persons: 50 }), a);
  assert.equal(new Set(a.map((r) => r.person)).size, 50);
});
