// The SQL of a read-access filter is built once per filter, types and parameter offset, and reused:
// the same text and values as building it anew, placeholders numbered from the statement's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlParams } from '../../../src/db/sql-params.ts';
import { accessConditions } from '../../../src/fhir/store/access-sql.ts';
import { anyOf, byType, readAccessTags, typeIn, type AccessFilter } from '../../../src/fhir/store/access-condition.ts';

const caller = { local: false, organizationId: '00000000-0000-4000-8000-000000000001', organizationIdentifier: 'remote.test' };

/** A filter that counts how often it was asked (the memo asks it once per key). */
function countingFilter(): { filter: AccessFilter; asked: () => number } {
  let asked = 0;
  const filter: AccessFilter = (types) => {
    asked++;
    return types?.length === 1 ? byType({ Patient: readAccessTags(caller) }, typeIn(['Organization'])) : anyOf(readAccessTags(caller), typeIn(['Endpoint']));
  };
  return { filter, asked: () => asked };
}

/** What accessConditions gives with `before` values already in the statement. */
function build(filter: AccessFilter, before: unknown[], types?: string[]): { sql: string[]; values: unknown[] } {
  const p = new SqlParams();
  p.values.push(...before);
  return { sql: accessConditions(filter, p, types), values: p.values };
}

test('a filter is asked once per types and offset; the reused SQL equals a fresh build', () => {
  const { filter, asked } = countingFilter();
  const first = build(filter, ['id'], ['Patient']);
  const again = build(filter, ['other id'], ['Patient']);
  assert.equal(asked(), 1);
  assert.deepEqual(again.sql, first.sql);
  assert.deepEqual(again.values.slice(1), first.values.slice(1));
  assert.equal(again.values[0], 'other id');
  assert.deepEqual(build(countingFilter().filter, ['other id'], ['Patient']), again, 'same as built by a filter never seen');

  // Another offset: the placeholders follow the statement's own parameters.
  const shifted = build(filter, ['id', 2], ['Patient']);
  assert.equal(asked(), 2);
  assert.ok(shifted.sql[0]!.includes('$3') && !first.sql[0]!.includes('$' + String(first.values.length + 1)));
  assert.deepEqual(shifted.values.slice(2), first.values.slice(1));

  // Other types: another condition.
  const other = build(filter, ['id'], ['Organization']);
  const any = build(filter, ['id']);
  assert.equal(asked(), 4);
  assert.notDeepEqual(any.sql, other.sql);
});

test('no filter: no condition; an ALL filter: no condition, reused', () => {
  assert.deepEqual(accessConditions(undefined, new SqlParams(), ['Patient']), []);
  let asked = 0;
  const all: AccessFilter = () => (asked++, { kind: 'all' });
  assert.deepEqual(build(all, [], ['Patient']), { sql: [], values: [] });
  assert.deepEqual(build(all, [], ['Patient']), { sql: [], values: [] });
  assert.equal(asked, 1);
});
