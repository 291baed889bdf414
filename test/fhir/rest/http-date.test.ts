// httpDate formats store timestamps by their second (a cache of the last second): the text must be
// what Date gives for every timestamp, in any order, and for other ISO forms too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpDate } from '../../../src/fhir/rest/http-headers.ts';

test('httpDate gives Date.toUTCString for store timestamps and other ISO forms, in any order', () => {
  const base = Date.UTC(2026, 11, 31, 23, 59, 58, 0);
  const stamps: string[] = [];
  // Bounded walk over second and day boundaries, forwards and back.
  for (let ms = 0; ms < 4000; ms += 137) stamps.push(new Date(base + ms).toISOString());
  stamps.push(...[...stamps].reverse());
  stamps.push('2026-03-01T12:00:00.000+01:00', '2026-03-01T12:00:00Z', '2026-03-01T12:00:00.5Z', '2026-03-01', '2026-03-01T12:00:00.999Z', '2026-03-01T12:00:00.000Z');
  for (const iso of stamps) assert.equal(httpDate(iso), new Date(iso).toUTCString(), iso);
});
